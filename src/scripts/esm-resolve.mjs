// Node ESM resolve hook for the Node scripts: tfjs-core's ESM files (dist/*.js) import
// extensionless paths and directories ("./gradients"), which bundlers accept and Node does not.
// Only relative imports from inside @tensorflow packages are retried with ".js" or "/index.js".
import { register } from 'node:module';

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const fromTf = context.parentURL?.includes('/node_modules/@tensorflow/');
    const code = /** @type {{code?: string}} */ (err).code;
    if (!fromTf || !specifier.startsWith('.') || (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT')) throw err;
    try {
      return await next(`${specifier}.js`, context);
    } catch {
      return next(`${specifier}/index.js`, context);
    }
  }
}

if (!process.env.ESM_RESOLVE_REGISTERED) {
  process.env.ESM_RESOLVE_REGISTERED = '1';
  register(import.meta.url);
}
