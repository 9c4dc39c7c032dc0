// Entry point of the dedicated module worker that owns all of TensorFlow.js. It receives ToWorker
// messages, handles them one at a time (tfjs work must not interleave), and answers each with a
// FromWorker reply carrying the request's id, or an `error` reply: nothing fails silently.
import {
  assertNever,
  PROTOCOL_VERSION,
  type FromWorker,
  type ToWorker,
} from '../lib/protocol/messages';
import { errorText } from './backend';
import { Session } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

let session: Session | null = null;

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      if (message.version !== PROTOCOL_VERSION) {
        throw new Error(`the page speaks protocol version ${message.version}, the worker ${PROTOCOL_VERSION}: reload the page`);
      }
      session?.dispose();
      session = null;
      session = await Session.open(message);
      post({ type: 'ready', requestId: message.requestId, backend: session.backend, reasons: session.reasons, modelInfo: session.modelInfo });
      break;
    }
    case 'sample': {
      if (!session) throw new Error('the model is not loaded yet');
      const completions = await session.sample(message.prompts, message.temperature);
      post({ type: 'samples', requestId: message.requestId, prompts: message.prompts, completions });
      break;
    }
    default:
      assertNever(message);
  }
}

// One message at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();

scope.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  queue = queue.then(() =>
    handle(message).catch((e: unknown) => {
      const requestId = typeof message?.requestId === 'number' ? message.requestId : undefined;
      post({ type: 'error', requestId, message: errorText(e) });
    }),
  );
});

scope.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  post({ type: 'error', message: `unexpected failure in the worker: ${errorText(event.reason)}` });
});
