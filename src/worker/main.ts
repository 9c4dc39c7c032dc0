// Entry point of the dedicated module worker that owns all of TensorFlow.js. Messages go to the
// Controller, which answers at once where no tensor is needed and otherwise queues a job for its
// work loop; every request gets its reply or an `error` reply with its id: nothing fails silently.
import type { FromWorker, ToWorker } from '../lib/protocol/messages';
import { errorText } from './backend';
import { Controller } from './controller';
import { Session } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** The last message of each type the worker posted: browser tests read the worker's own numbers here (page.workers()[0].evaluate). */
const lastPosted: Partial<Record<FromWorker['type'], FromWorker>> = {};
(scope as unknown as { lastPosted: typeof lastPosted }).lastPosted = lastPosted;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  lastPosted[message.type] = message;
  scope.postMessage(message, transfer);
}

const controller = new Controller(post, (init) => Session.open(init));

scope.addEventListener('message', (event: MessageEvent<ToWorker>) => controller.receive(event.data));

scope.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  post({ type: 'error', message: `unexpected failure in the worker: ${errorText(event.reason)}` });
});

void controller.run().catch((e: unknown) => post({ type: 'error', message: `the worker's loop stopped: ${errorText(e)}` }));
