// What the page's state classes need of the Playground that owns them: the current worker client
// (replaced when the worker is restarted), whether the worker is ready, the run config (which the
// address mirrors) and a place for warnings.
import type { RunConfig } from '../../lib/config/url';
import type { WorkerClient } from '../worker-client';

export interface AppLink {
  /** null before the first start and after the worker failed. */
  readonly client: WorkerClient | null;
  /** The worker has loaded the model and answers. */
  readonly ready: boolean;
  readonly config: RunConfig;
  /** Changes the run config and writes it into the address. */
  updateConfig(change: (c: RunConfig) => RunConfig): void;
  /** A non-fatal problem for the page to show. */
  warn(message: string): void;
}
