/**
 * A notification's actions and Background Sync in a real browser (Debian's Chromium, the real
 * service worker, the embedded default), with Alice's app closed: "Mark as read" raises her read
 * watermark, which Bob's other device hears; "Reply" sends her text to Bob once, through the
 * outbox in IndexedDB, which is empty afterwards, and her app shows the reply once when she opens
 * it; a reply written offline waits in the outbox and goes out when the `sync` event fires (and,
 * the same way, when the `periodicsync` one does). With the app open in a tab the worker's sync
 * registration is accepted, the app writing its own outbox keeps the reply it never held, and
 * the browser fires the sync by itself once the connection is back; Chromium refuses the
 * registration from a worker with no window of the site open, so with the app closed the test
 * fires the event.
 *
 * What is the browser's and what is tested: a headless Chromium has no notification to click, so
 * the test plays the browser's part only. It takes the notification the service worker really
 * showed (`registration.getNotifications()`) and dispatches on the worker's global the
 * `notificationclick` event a click on its button would (`action` "read", or "reply" with the
 * typed `reply`). The worker's own listener handles it, unchanged. Such an event is untrusted, and
 * the spec makes its `waitUntil` throw; the event the test dispatches has a `waitUntil` of its
 * own that collects the promises (where the browser would keep the worker alive for them), so
 * the test knows when the handler's work is done. The `sync` and `periodicsync` events are the
 * browser's real ones, fired through the DevTools protocol.
 *
 * A reply is not idempotent per event: each `notificationclick` with a reply writes a new outbox
 * item with a fresh clientMsgId (a browser sends one event per click, and the handler closes the
 * notification, so no second click on it comes); nothing here asserts a second dispatch.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { CDPSession, Worker } from 'playwright-core';
import type { Message } from '../../protocol/frames.ts';
import { appDevice, appSignUp, chromiumOrSkip, freePort, type AppDevice } from '../../test/support/browser.ts';
import { pushTask, registration } from '../../test/support/push.devtools.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { until } from '../../test/support/wait.ts';
import { pushPayload } from '../../workers/src/push.job.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const WAIT = 20_000;

const errors: string[] = [];

/** What the worker's notification data holds (service-worker.ts's NoticeData), as far as the test reads it. */
interface ShownNotice {
  body: string;
  seq: number | undefined;
  actions: string[];
}

/** What a click on a notification's button carries: its action and, for Reply, the typed text. */
interface Click {
  action: 'read' | 'reply';
  reply?: string;
}

if (chromiumOrSkip(t, 'the notification actions browser suite')) {
  t.test('a notification\'s actions and Background Sync in Chromium, the app closed', async (t) => {
    buildAppIfStale();
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const h = await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR });
    const alice = await appDevice(t, chromium, origin, 'Alice', 'light', 'notify-actions', errors);
    // Background Sync is Chromium's default for a site; Playwright's profile denies it unless granted.
    await alice.context.grantPermissions(['notifications', 'background-sync'], { origin });
    const handle = `alice_n${process.pid}`;
    await appSignUp(alice, handle, 'Alice Example');
    const aliceId = (await h.stores.relational.findUserByHandle(handle))!.id;
    // Bob only needs his other device: a plain socket that hears Alice's receipts and messages.
    const bob = await h.user();
    const bobSocket = await bob.connect({ origin });
    const room = `${Math.min(aliceId, bob.id)}-${Math.max(aliceId, bob.id)}`;

    const cdp = await alice.context.newCDPSession(alice.page);
    const registrationId = await registration(cdp, origin);
    // Alice's app closes: her tab leaves the site, her browser (and its service worker) stays.
    await alice.page.goto('about:blank');
    const sw = new AliceWorker(alice, cdp, origin);

    /** Bob writes `body`; a push about it reaches Alice's service worker, which shows it. */
    async function pushed(body: string): Promise<Message> {
      const ack = await bobSocket.sendMessage({ to: aliceId }, body);
      if (ack.type !== 'message.sent') throw new Error(`Bob's message was refused: ${ack.code}`);
      const m: Message = { id: ack.id, room: ack.room, seq: ack.seq, sender: bob.id, body, clientMsgId: ack.ref, ts: ack.ts };
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: pushPayload(pushTask(aliceId, bob, m)) });
      // Then read: Chromium drops from getNotifications() one asked about before it is on screen.
      await until(async () => (await sw.notifiedSeq(aliceId, room)) >= m.seq, WAIT, `the worker to show seq ${m.seq}`);
      await until(async () => (await sw.notices(room)).some((n) => n.seq === m.seq), WAIT, `the notification of seq ${m.seq}`);
      return m;
    }

    /** The messages of the room with `body`, as the server stored them. */
    const stored = async (body: string) => (await h.stores.history.after(room, 0, 1000)).filter((m) => m.body === body);

    await t.test('Mark as read from the notification reports Alice\'s read watermark and closes it', async (t) => {
      const m = await pushed('Are you coming tonight?');
      t.match(await sw.notices(room), [{ body: 'Are you coming tonight?', seq: m.seq, actions: ['reply', 'read'] }], 'the notification offers Reply and Mark as read');
      t.same(await sw.click(room, m.seq, { action: 'read' }), [true], 'the handler\'s receipt was accepted');
      const read = await bobSocket.next('receipt', (f) => f.kind === 'read' && f.user === aliceId, WAIT);
      t.match(read, { room, seq: m.seq }, 'Bob\'s other device hears that Alice read up to that seq');
      await until(async () => (await sw.notices(room)).length === 0, WAIT, 'the notification to close');
      t.pass('the notification is closed');
    });

    await t.test('Reply from the notification, online, sends the reply once through the outbox', async (t) => {
      const m = await pushed('Where are you?');
      const body = 'On my way';
      t.same(await sw.click(room, m.seq, { action: 'reply', reply: body }), [true], 'the handler took the reply');
      const got = await bobSocket.next('message.new', (f) => f.message.body === body, WAIT);
      t.match(got.message, { room, sender: aliceId, body }, 'Bob\'s other device gets the reply from Alice in their room');
      t.same(await sw.outbox(aliceId), [], 'the outbox in IndexedDB is empty once the handler is done');
      t.equal((await stored(body)).length, 1, 'the server stored it once');
      t.same(await sw.notices(room), [], 'the notification is closed');

      await t.test('Alice opening the app later shows her reply once', async (t) => {
        await alice.page.goto(`${origin}/chat/${room}`);
        await alice.page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: WAIT });
        const mine = alice.page.locator('[data-testid=message][data-mine=true]', { hasText: body });
        await mine.first().waitFor({ timeout: WAIT });
        // Her app syncs from the server; a copy still in the outbox would show as a second, waiting bubble.
        await alice.page.locator(`[data-testid=message][data-seq="${got.message.seq}"]`).waitFor({ timeout: WAIT });
        t.equal(await mine.count(), 1, 'one bubble with her reply');
        t.equal(await mine.getAttribute('data-seq'), String(got.message.seq), 'and it is the stored message (its seq), not a waiting copy');
        await alice.page.goto('about:blank');
      });
    });

    await t.test('a reply written offline waits in the outbox; the sync event sends it once', async (t) => {
      const m = await pushed('Call me when you can');
      const body = 'Calling you in five';
      await alice.context.setOffline(true);
      t.same(await sw.click(room, m.seq, { action: 'reply', reply: body }), [true], 'the handler took the reply');
      t.match(await sw.outbox(aliceId), [{ room, to: bob.id, body }], 'offline, the reply waits in the outbox');
      // Chromium refuses a sync registration from a worker with no window of the site open, so with
      // the app closed the browser fires none by itself: the app's next start or a periodic sync sends it.
      t.same(await stored(body), [], 'nothing reached the server');

      await alice.context.setOffline(false);
      await cdp.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId, tag: 'outbox', lastChance: false });
      const got = await bobSocket.next('message.new', (f) => f.message.body === body, WAIT);
      t.match(got.message, { room, sender: aliceId, body }, 'back online, the sync event sends it: Bob gets it');
      await until(async () => (await sw.outbox(aliceId)).length === 0, WAIT, 'the outbox to empty');
      t.pass('and the outbox is empty');
      t.equal((await stored(body)).length, 1, 'the server stored it once');
    });

    await t.test('the periodic catch-up sends what waited in the outbox too', async (t) => {
      const m = await pushed('Still there?');
      const body = 'Yes, sorry';
      await alice.context.setOffline(true);
      t.same(await sw.click(room, m.seq, { action: 'reply', reply: body }), [true], 'the handler took the reply');
      t.equal((await sw.outbox(aliceId)).length, 1, 'offline, the reply waits in the outbox');
      await alice.context.setOffline(false);
      await cdp.send('ServiceWorker.dispatchPeriodicSyncEvent', { origin, registrationId, tag: 'catch-up' });
      const got = await bobSocket.next('message.new', (f) => f.message.body === body, WAIT);
      t.match(got.message, { room, sender: aliceId, body }, 'the periodicsync event sends it');
      await until(async () => (await sw.outbox(aliceId)).length === 0, WAIT, 'the outbox to empty');
      t.equal((await stored(body)).length, 1, 'the server stored it once');
    });

    await t.test('with the app open in a tab, the worker registers the sync, the app keeps the reply, the browser fires the sync when back online', async (t) => {
      await alice.page.goto(`${origin}/`);
      await alice.page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: WAIT });
      // Offline before Bob writes: the app does not get it live, so the push shows a notification.
      await alice.context.setOffline(true);
      await alice.page.locator('[data-testid=connection]:not([data-state=online])').waitFor({ timeout: WAIT });
      const m = await pushed('Are you back?');
      const body = 'Back now';
      t.same(await sw.click(room, m.seq, { action: 'reply', reply: body }), [true], 'the handler took the reply');
      t.equal((await sw.outbox(aliceId)).length, 1, 'offline, the reply waits in the outbox');
      t.ok((await sw.syncTags()).includes('outbox'), 'and a Background Sync is registered for it');
      // The open app, which never held the reply, writes its own outbox: the reply must stay in it.
      const typed = 'And one more thing';
      await alice.page.getByRole('link', { name: new RegExp(bob.displayName) }).first().click();
      await alice.page.getByLabel('Message', { exact: true }).fill(typed);
      await alice.page.getByLabel('Message', { exact: true }).press('Enter');
      await until(async () => (await sw.outbox(aliceId)).some((o) => o.body === typed), WAIT, 'the app to write its outbox');
      t.same((await sw.outbox(aliceId)).map((o) => o.body).sort(), [body, typed].sort(), 'the app\'s write keeps the reply it never held');

      await alice.context.setOffline(false);
      const got = await bobSocket.next('message.new', (f) => f.message.body === body, WAIT);
      t.match(got.message, { room, sender: aliceId, body }, 'back online, the browser\'s own sync sends the reply');
      t.match((await bobSocket.next('message.new', (f) => f.message.body === typed, WAIT)).message, { room, sender: aliceId }, 'and the app sends its message');
      await until(async () => (await sw.outbox(aliceId)).length === 0, WAIT, 'the outbox to empty');
      t.equal((await stored(body)).length, 1, 'the server stored the reply once');
      t.equal((await stored(typed)).length, 1, 'and the app\'s message once');
    });

    // The app's own message may go out twice (its socket and the worker's sync send the same
    // clientMsgId): the server answers the second with the first's seq, and clients dedupe by it.
    const fromAlice = bobSocket.all('message.new').filter((f) => f.message.sender === aliceId);
    t.equal(new Set(fromAlice.map((f) => f.message.seq)).size, 5, 'Bob got five messages from Alice in all, none stored twice');
    t.equal(fromAlice.filter((f) => f.message.body === 'On my way').length, 1, 'the online reply reached him in one frame');
    // Offline, the app's socket attempts fail by design.
    t.same(errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')), [], 'no page errors');
  });
}

/**
 * Alice's service worker as Playwright reaches it (`worker.evaluate` runs in its global): started
 * again through CDP if the browser stopped it while idle.
 */
class AliceWorker {
  constructor(
    private readonly d: AppDevice,
    private readonly cdp: CDPSession,
    private readonly origin: string,
  ) {}

  private async worker(): Promise<Worker> {
    let worker = this.d.context.serviceWorkers().find((w) => w.url().startsWith(this.origin));
    if (!worker) {
      const started = this.d.context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(this.origin), timeout: WAIT });
      await this.cdp.send('ServiceWorker.startWorker', { scopeURL: `${this.origin}/` });
      worker = await started;
    }
    // tsx's keepNames wraps the test's functions in `__name`, which the pages get from browser.ts; the worker here.
    await worker.evaluate('globalThis.__name ??= (f) => f');
    return worker;
  }

  /** The notifications of `room` the worker shows now. */
  async notices(room: string): Promise<ShownNotice[]> {
    return (await this.worker()).evaluate(async (room) => {
      const reg = (self as unknown as { registration: ServiceWorkerRegistration }).registration;
      const shown = await reg.getNotifications({ tag: `room:${room}` });
      return shown.map((n) => ({ body: n.body, seq: (n.data as { seq?: number } | null)?.seq, actions: ((n as Notification & { actions?: { action: string }[] }).actions ?? []).map((a) => a.action) }));
    }, room);
  }

  /**
   * Plays a click on a button of the notification of `seq`: dispatches the `notificationclick`
   * event the browser would, and resolves with what the handler's `waitUntil` promises resolved to.
   */
  async click(room: string, seq: number, click: Click): Promise<unknown[]> {
    return (await this.worker()).evaluate(
      async ({ room, seq, click }) => {
        const scope = self as unknown as EventTarget & { registration: ServiceWorkerRegistration };
        const notification = (await scope.registration.getNotifications({ tag: `room:${room}` })).find((n) => (n.data as { seq?: number } | null)?.seq === seq);
        if (!notification) throw new Error(`no notification of seq ${seq}`);
        const NotificationEvent = (self as unknown as { NotificationEvent: new (type: string, init: object) => Event }).NotificationEvent;
        const event = new NotificationEvent('notificationclick', { notification, ...click });
        const work: Promise<unknown>[] = [];
        // Where the browser would keep the worker alive for the promise (an untrusted event's own `waitUntil` throws).
        Object.defineProperty(event, 'waitUntil', { value: (p: Promise<unknown>) => void work.push(p) });
        scope.dispatchEvent(event);
        return Promise.all(work);
      },
      { room, seq, click },
    );
  }

  /** The record under `key` in the store `store` of the app's IndexedDB, as the worker reads it. */
  private async record(store: string, key: number | [number, string]): Promise<unknown> {
    return (await this.worker()).evaluate(
      ([store, key]) =>
        new Promise<unknown>((resolve, reject) => {
          const open = indexedDB.open('messenger');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const got = open.result.transaction(store).objectStore(store).get(key);
            got.onsuccess = () => {
              resolve(got.result);
              open.result.close();
            };
            got.onerror = () => reject(got.error);
          };
        }),
      [store, key] as const,
    );
  }

  /** `user`'s outbox as IndexedDB holds it. */
  async outbox(user: number): Promise<{ room: string; to?: number; body: string }[]> {
    return ((await this.record('outbox', user)) as { items: { room: string; to?: number; body: string }[] } | undefined)?.items ?? [];
  }

  /** The newest seq of `room` the worker showed a notification for (its `notified` record), 0 when none. */
  async notifiedSeq(user: number, room: string): Promise<number> {
    return ((await this.record('notified', [user, room])) as { seq: number } | undefined)?.seq ?? 0;
  }

  /** The Background Sync tags registered and not yet done. */
  async syncTags(): Promise<string[]> {
    return (await this.worker()).evaluate(async () => {
      const reg = (self as unknown as { registration: ServiceWorkerRegistration & { sync?: { getTags(): Promise<string[]> } } }).registration;
      return (await reg.sync?.getTags()) ?? [];
    });
  }
}
