// The page's side of its service worker (src/sw/service-worker.ts): registers it through
// vite-plugin-pwa's registerSW (workbox-window, loaded lazily), reloads once into a cross-origin
// isolated page when the worker first takes control (what coi-serviceworker did before) unless
// the user has already started (a click or a key press: the reload would take the pair from under
// them; the next visit is isolated anyway), and holds the update prompt: a new build's worker waits until the user presses "Reload to update".
/// <reference types="vite-plugin-pwa/client" />
import { registerSW } from 'virtual:pwa-register';
import { errorText } from '../errors';

// At most one isolation reload per tab: where isolation never comes (a cross-origin iframe), no loop.
const RELOADED_KEY = 'rlhf-isolation-reload';

export class OfflineState {
  /** A new version of the page is installed and waits for "Reload to update". */
  updateReady = $state(false);
  /** The build is cached: the page now opens without the network. */
  offlineReady = $state(false);
  /** A reason the page cannot work offline, for "This run" (null while none is known). */
  problem = $state<string | null>(null);
  private update: ((reload?: boolean) => Promise<void>) | null = null;
  /** The user has clicked or pressed a key on this page (watched from the start: registration comes later). */
  private started = false;

  constructor() {
    const start = () => {
      this.started = true;
    };
    for (const type of ['pointerdown', 'keydown'] as const) window.addEventListener(type, start, { capture: true, once: true });
    // A page the worker serves came from its cache: it opens offline already.
    this.offlineReady = (navigator.serviceWorker as ServiceWorkerContainer | undefined)?.controller != null;
  }

  /**
   * Registers the service worker. `oneThread` (the address asks for ?threads=1): isolation brings
   * nothing, so the page skips the isolation reload (the worker still caches the build).
   */
  register(oneThread: boolean): void {
    // vite-plugin-pwa's registerSW does nothing under the dev server: say so instead of a promise.
    if (import.meta.env.DEV) {
      this.problem = 'the development server (vite dev) registers no service worker; a build does';
      return;
    }
    // Absent in some private modes and where a test turns service workers off.
    if (!navigator.serviceWorker) {
      this.problem = 'this browser offers no service workers here (private mode, or turned off), so the page needs the network on every visit';
      return;
    }
    if (!self.crossOriginIsolated && !oneThread) {
      navigator.serviceWorker.addEventListener('controllerchange', () => {
        if (!this.started) reloadOnce();
      }, { once: true });
    }
    this.update = registerSW({
      immediate: true,
      onNeedRefresh: () => {
        this.updateReady = true;
      },
      onOfflineReady: () => {
        this.offlineReady = true;
      },
      onRegisterError: (e: unknown) => {
        this.problem = `the service worker did not register (${errorText(e)}), so the page needs the network on every visit`;
      },
    });
  }

  /** Activates the waiting version; registerSW reloads the page once it controls it. */
  async applyUpdate(): Promise<void> {
    await this.update?.(true);
  }
}

/** Reloads the page into the service worker's isolated responses, once per tab. */
function reloadOnce(): void {
  try {
    if (sessionStorage.getItem(RELOADED_KEY)) return;
    sessionStorage.setItem(RELOADED_KEY, '1');
  } catch {
    return; // no sessionStorage: no way to know a reload happened already, so none
  }
  location.reload();
}
