// What the page's state classes need of the Playground that owns them: the current worker client
// (replaced when the worker is restarted), whether the worker is ready, and a place for warnings.
import type { WorkerClient } from '../worker-client';

export interface AppLink {
  /** null before the first start and after the worker failed. */
  readonly client: WorkerClient | null;
  /** The worker has loaded the model and answers. */
  readonly ready: boolean;
  /** A non-fatal problem for the page to show. */
  warn(message: string): void;
}
