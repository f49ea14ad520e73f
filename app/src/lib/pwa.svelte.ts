/**
 * The installable side: registers the service worker through workbox-window (with an update
 * prompt when a new version waits), and keeps the browser's install prompt for an install button.
 */
import { Workbox } from 'workbox-window';

interface InstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

class Pwa {
  /** A new version is installed and waiting. */
  updateReady = $state(false);
  /** The browser offers installation (Chromium's beforeinstallprompt). */
  canInstall = $state(false);
  installed = $state(false);
  private wb: Workbox | null = null;
  private prompt: InstallPromptEvent | null = null;

  /** iOS Safari has no install prompt: people add the app with Share → Add to Home Screen. */
  get isIos(): boolean {
    return /iphone|ipad|ipod/i.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  }

  get standalone(): boolean {
    return matchMedia('(display-mode: standalone)').matches || (navigator as Navigator & { standalone?: boolean }).standalone === true;
  }

  start(): void {
    this.installed = this.standalone;
    addEventListener('beforeinstallprompt', (e) => {
      e.preventDefault();
      this.prompt = e as InstallPromptEvent;
      this.canInstall = true;
    });
    addEventListener('appinstalled', () => {
      this.installed = true;
      this.canInstall = false;
    });
    if (!('serviceWorker' in navigator)) return;
    this.wb = new Workbox('/service-worker.js', { type: import.meta.env.DEV ? 'module' : 'classic', scope: '/' });
    this.wb.addEventListener('waiting', () => (this.updateReady = true));
    void this.wb.register();
  }

  async install(): Promise<void> {
    if (!this.prompt) return;
    await this.prompt.prompt();
    const { outcome } = await this.prompt.userChoice;
    if (outcome === 'accepted') this.canInstall = false;
    this.prompt = null;
  }

  /** Activates the waiting version and reloads once it controls the page. */
  update(): void {
    if (!this.wb) return;
    this.wb.addEventListener('controlling', () => location.reload());
    this.wb.messageSkipWaiting();
  }
}

export const pwa = new Pwa();
