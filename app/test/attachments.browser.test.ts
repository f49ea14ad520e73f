/**
 * Photos and files in a real browser (Debian's Chromium, playwright-core) against a router serving
 * app/build, on the embedded default (bytes in files under DATA_DIR) and, when DATABASE_URL,
 * REDIS_URL and AMQP_URL are set, on the full stack with the bytes in an S3-compatible bucket
 * (test/support/s3.ts: s3rver or S3_URL's); there the photo's bytes are read back from the bucket.
 * Alice attaches two PNGs (made with sharp here) and a tiny PDF with the file picker, sees their
 * previews and upload progress, cancels one more, writes a caption and sends while the uploads are
 * held: the message goes only once they finish. Bob sees the
 * ThumbHash blur first (his thumbnails are held), then the thumbnails, the file card and the caption;
 * he opens the viewer (labelled, focus inside, next by arrow key, back by swipe, zoom, Escape closes)
 * and downloads the PDF (an attachment, nosniff). A third person gets 404 for every URL. A second
 * message without a caption reads "Photo" in the chat list. A photo attached and sent offline is kept
in IndexedDB through a reload offline and arrives once the browser is back online. Screenshots of the composer with
 * previews, the conversation and the viewer at 390x844 and 1440x900, light and dark, go to
 * artifacts/screenshots/attachments-* (from the embedded default's run: the screens are the same).
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import type { BrowserContext, BrowserType, Page } from 'playwright-core';
import { appServer } from '../../test/support/app.server.ts';
import { chromiumOrSkip, collectPageErrors, phoneDevice, shotsAtEverySize, signUpWithPasskey } from '../../test/support/browser.ts';
import { modes } from '../../test/support/router.harness.ts';
import { bucketContents, freshS3Bucket } from '../../test/support/s3.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { S3BlobOptions } from '../../db/blob.s3.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const WAIT = { timeout: 20_000 };
const CAPTION = 'From the trip';

interface Device {
  context: BrowserContext;
  page: Page;
}

/** A `width`×`height` PNG of a diagonal gradient from `from` to `to` (RGB), so the blur has something to show. */
async function gradientPng(width: number, height: number, from: number[], to: number[]): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const f = (x / width + y / height) / 2;
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = Math.round(from[c]! + (to[c]! - from[c]!) * f);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** The smallest well-formed PDF: one empty page. */
function tinyPdf(): Buffer {
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>'];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A gate: requests matching wait at it until it opens (a condition the test controls, not a delay). */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** The composer files kept in IndexedDB on `page`: per room, how many and the caption of the send asked for. */
function keptUploads(page: Page): Promise<{ files: number; caption: string | null }[]> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('messenger');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction('pendingUploads').objectStore('pendingUploads').getAll();
          all.onsuccess = () => {
            db.close();
            resolve(all.result.map((r: { files: unknown[]; armed: { caption: string } | null }) => ({ files: r.files.length, caption: r.armed?.caption ?? null })));
          };
        };
      }),
  );
}

/** Screenshots only from the first mode's run; `take` is false on the others. */
async function shots(d: Device, screen: string, take: boolean): Promise<void> {
  if (take) await shotsAtEverySize(d.page, `${SHOTS}attachments-${screen}`, PHONE, DESKTOP);
}

if (chromiumOrSkip(t, 'the attachments browser suite')) {
  for (const [index, mode] of modes(t, 'the attachments browser suite').entries()) {
    t.test(`photos and a PDF between two people in Chromium on the ${mode.name}; a third cannot fetch them`, async (t) => {
      mkdirSync(SHOTS, { recursive: true });
      const { chromium } = await import('playwright-core');
      const screenshots = index === 0;
      const env = await mode.env(t);
      // The full stack keeps the bytes in an S3-compatible bucket, as in router/test/attachments.test.ts.
      let s3: S3BlobOptions | null = null;
      if (mode.name !== 'embedded default') {
        s3 = await freshS3Bucket(t);
        Object.assign(env, { S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint!, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey });
      }
      const origin = await appServer(t, env);
      const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
      const errors: string[] = [];
      const open = async (chromium: BrowserType, name: string, scheme: 'light' | 'dark'): Promise<Device> => {
        const d = await phoneDevice(t, chromium, scheme, 'attachments');
        collectPageErrors(d.page, name, errors);
        return d;
      };
      const alice = await open(chromium, 'Alice', 'light');
      const bob = await open(chromium, 'Bob', 'dark');
      const bobHandle = `bob_${tag}`;
      const aliceHandle = `alice_${tag}`;
      const sunset = await gradientPng(640, 480, [250, 120, 40], [60, 20, 120]);
      const sea = await gradientPng(300, 500, [20, 120, 200], [220, 240, 255]);
      const pdf = tinyPdf();
      let urls: { image: string; thumb: string; pdf: string } | null = null;

      await t.test('Alice attaches two photos and a PDF, sees previews and progress, cancels one, and sends once the uploads finish', async (t) => {
        await signUpWithPasskey(alice.context, alice.page, origin, aliceHandle, 'Alice Example');
        await signUpWithPasskey(bob.context, bob.page, origin, bobHandle, 'Bob Example');
        await alice.page.goto(`${origin}/new`);
        await alice.page.getByLabel('Find someone by handle').fill(`@${bobHandle}`);
        await alice.page.getByRole('button', { name: 'Find' }).click();
        await alice.page.getByRole('button', { name: 'Message' }).click();
        await alice.page.waitForURL('**/chat/*-*');

        const uploads = gate();
        let held = 0;
        await alice.page.route('**/api/uploads', async (route) => {
          held++;
          await uploads.wait;
          await route.continue();
        });
        t.ok(await alice.page.getByRole('button', { name: 'Attach files' }).isVisible(), 'an attach button');
        await alice.page.getByTestId('attach-input').setInputFiles([
          { name: 'sunset.png', mimeType: 'image/png', buffer: sunset },
          { name: 'sea.png', mimeType: 'image/png', buffer: sea },
          { name: 'plan.pdf', mimeType: 'application/pdf', buffer: pdf },
          { name: 'oops.pdf', mimeType: 'application/pdf', buffer: pdf },
        ]);
        const items = alice.page.getByTestId('attach-item');
        await items.nth(3).waitFor(WAIT);
        t.equal(await alice.page.getByTestId('attach-preview').count(), 2, 'the two pictures previewed from the files');
        t.match(await alice.page.getByTestId('attach-preview').first().getAttribute('src'), /^blob:/, 'by an object URL');
        await alice.page.locator('[data-testid=attach-item][data-name="plan.pdf"]').getByText('PDF', { exact: true }).waitFor(WAIT);
        // Three upload at once; the held requests show as under way with a progress bar each.
        await alice.page.waitForFunction(() => document.querySelectorAll('[data-testid=attach-item][data-state=uploading]').length === 3, undefined, WAIT);
        t.equal(await alice.page.getByRole('progressbar').count(), 4, 'a progress bar on each file not uploaded yet');
        await alice.page.getByRole('button', { name: 'Cancel upload of oops.pdf' }).or(alice.page.getByRole('button', { name: 'Remove oops.pdf' })).click();
        await alice.page.locator('[data-testid=attach-item][data-name="oops.pdf"]').waitFor({ state: 'detached', ...WAIT });
        t.equal(await items.count(), 3, 'the cancelled file is gone');
        await shots(alice, 'composer', screenshots);

        await alice.page.getByLabel('Message', { exact: true }).fill(CAPTION);
        await alice.page.getByLabel('Message', { exact: true }).press('Enter');
        await alice.page.getByTestId('attach-armed').waitFor(WAIT);
        t.equal(await alice.page.locator('[data-testid=message][data-attachments]').count(), 0, 'nothing sent while the uploads are held');
        t.ok(held >= 3, 'the uploads were on their way');
        uploads.open();
        const sent = alice.page.locator('[data-testid=message][data-attachments="3"]:not([data-status=pending])');
        await sent.waitFor(WAIT);
        t.equal(await alice.page.getByTestId('attach-item').count(), 0, 'the tray is empty once sent');
        t.equal(await sent.locator('.body').innerText(), CAPTION, 'the caption below the photos');
        await alice.page.unroute('**/api/uploads');
      });

      await t.test('Bob sees the blur, then the thumbnails, the file card and the caption', async (t) => {
        const thumbs = gate();
        await bob.page.route('**/api/attachments/*/thumb', async (route) => {
          await thumbs.wait;
          await route.continue();
        });
        await bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`).click(WAIT);
        const message = bob.page.locator('[data-testid=message][data-attachments="3"]');
        await message.waitFor(WAIT);
        const photos = message.getByTestId('photo');
        t.equal(await photos.count(), 2, 'two photos in the grid');
        t.match(await photos.first().evaluate((el) => getComputedStyle(el).backgroundImage), /^url\("data:image\/png;base64,/, 'the ThumbHash blur painted first');
        t.equal(await photos.first().getAttribute('data-loaded'), 'false', 'the thumbnail not there yet');
        const box = await message.getByTestId('photo-grid').boundingBox();
        t.ok(box && box.width > 200 && box.height > 100, 'the grid has its size before any byte');
        thumbs.open();
        await message.locator('[data-testid=photo][data-loaded=true]').nth(1).waitFor(WAIT);
        const card = message.getByTestId('file-card');
        t.match(await card.innerText(), /plan\.pdf[\s\S]*B · PDF/, 'the file card: name, size and type');
        t.equal(await message.locator('.body').innerText(), CAPTION);
        const href = (await card.getAttribute('href'))!;
        const first = (await photos.first().locator('img').getAttribute('src'))!;
        urls = { image: first.replace(/\/thumb$/, ''), thumb: first, pdf: href };
        await bob.page.unroute('**/api/attachments/*/thumb');
        await shots(bob, 'conversation', screenshots);
      });

      await t.test('Bob opens the viewer: labelled, focus inside, next, back by swipe, zoom, Escape closes', async (t) => {
        const message = bob.page.locator('[data-testid=message][data-attachments="3"]');
        await message.getByRole('button', { name: /^Open photo 1 of 2/ }).click();
        const viewer = bob.page.getByRole('dialog', { name: 'Photo 1 of 2: sunset.png' });
        await viewer.waitFor(WAIT);
        await bob.page.waitForFunction(() => (document.querySelector('[data-testid=viewer-image]') as HTMLImageElement | null)?.complete === true, undefined, WAIT);
        t.ok(await bob.page.evaluate(() => document.querySelector('[data-testid=viewer]')!.contains(document.activeElement)), 'focus is inside the viewer');
        await shots(bob, 'viewer', screenshots);
        await bob.page.keyboard.press('ArrowRight');
        await bob.page.getByRole('dialog', { name: 'Photo 2 of 2: sea.png' }).waitFor(WAIT);
        // A swipe to the right (a drag on the photo) goes back.
        const stage = (await bob.page.getByTestId('viewer-image').boundingBox())!;
        const y = stage.y + stage.height / 2;
        await bob.page.mouse.move(stage.x + 20, y);
        await bob.page.mouse.down();
        await bob.page.mouse.move(stage.x + 200, y, { steps: 5 });
        await bob.page.mouse.up();
        await bob.page.getByRole('dialog', { name: 'Photo 1 of 2: sunset.png' }).waitFor(WAIT);
        await bob.page.getByTestId('viewer-zoom').click();
        t.equal(await bob.page.getByTestId('viewer').getAttribute('data-zoom'), 'in', 'the zoom button zooms in');
        await bob.page.waitForFunction(() => getComputedStyle(document.querySelector('[data-testid=viewer-image]')!).transform.startsWith('matrix(2.5'), undefined, WAIT);
        t.pass('the photo is drawn 2.5 times larger');
        await bob.page.keyboard.press('Escape');
        await bob.page.getByTestId('viewer').waitFor({ state: 'detached', ...WAIT });
        t.ok(bob.page.url().includes('/chat/'), 'Escape closed the viewer, not the chat');
      });

      await t.test('Bob downloads the PDF: an attachment, nosniff', async (t) => {
        const download = bob.page.waitForEvent('download', WAIT);
        await bob.page.locator('[data-testid=file-card]').first().click();
        t.equal((await download).suggestedFilename(), 'plan.pdf', 'saved under its name');
        const res = await bob.page.request.get(`${origin}${urls!.pdf}`);
        t.equal(res.status(), 200);
        t.match(res.headers()['content-disposition'], /^attachment;/, 'never shown as a page');
        t.equal(res.headers()['x-content-type-options'], 'nosniff');
        t.equal(res.headers()['content-type'], 'application/pdf', 'the sniffed type');
        t.same((await res.body()).subarray(0, 5), Buffer.from('%PDF-'), 'the bytes sent');
        const image = await bob.page.request.get(`${origin}${urls!.image}`);
        t.equal(image.status(), 200);
        t.match(image.headers()['content-disposition'], /^inline/, 'a photo is inline');
        if (s3) {
          // The S3 store was the one used: the photo served is the object in the bucket, its thumbnail beside it.
          const id = urls!.image.split('/').pop()!;
          const bucket = await bucketContents(s3);
          t.ok(bucket.has(`t/${id}`), 'its thumbnail is in the bucket');
          t.same(bucket.get(`a/${id}`), await image.body(), 'the photo served is the object in the bucket');
        }
      });

      await t.test('a third person gets 404 for the photo, its thumbnail and the PDF', async (t) => {
        const carol = await open(chromium, 'Carol', 'light');
        await signUpWithPasskey(carol.context, carol.page, origin, `carol_${tag}`, 'Carol Example');
        for (const url of Object.values(urls!)) t.equal((await carol.page.request.get(`${origin}${url}`)).status(), 404, `404 for ${url}`);
      });

      await t.test('a photo without a caption reads "Photo" in the chat list', async (t) => {
        await alice.page.getByTestId('attach-input').setInputFiles([{ name: 'sea.png', mimeType: 'image/png', buffer: sea }]);
        await alice.page.locator('[data-testid=attach-item][data-state=done]').waitFor(WAIT);
        await alice.page.getByRole('button', { name: 'Send' }).click();
        await alice.page.locator('[data-testid=message][data-attachments="1"]:not([data-status=pending])').waitFor(WAIT);
        await bob.page.getByRole('link', { name: 'Back to chats' }).click();
        const row = bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`);
        await row.getByText('Photo', { exact: true }).waitFor(WAIT);
        t.pass('the row says Photo');
      });

      await t.test('a photo attached and sent offline survives a reload offline and arrives once back online', async (t) => {
        const caption = 'Written on the train';
        await alice.context.setOffline(true);
        await alice.page.getByTestId('attach-input').setInputFiles([{ name: 'train.png', mimeType: 'image/png', buffer: sunset }]);
        await alice.page.locator('[data-testid=attach-item][data-name="train.png"][data-state=waiting]').waitFor(WAIT);
        await alice.page.getByLabel('Message', { exact: true }).fill(caption);
        await alice.page.getByLabel('Message', { exact: true }).press('Enter');
        await alice.page.getByTestId('attach-armed').waitFor(WAIT);
        t.ok(await waitFor(async () => (await keptUploads(alice.page)).some((k) => k.caption === caption), 20_000), 'the file and the send are in IndexedDB');
        await alice.page.reload();
        const item = alice.page.locator('[data-testid=attach-item][data-name="train.png"]');
        await item.waitFor(WAIT);
        t.equal(await item.getAttribute('data-state'), 'waiting', 'back after the reload, waiting for the connection');
        await alice.page.getByTestId('attach-armed').waitFor(WAIT);
        t.pass('the send is still asked for');
        await alice.context.setOffline(false);
        await alice.page.locator('[data-testid=message][data-attachments="1"]:not([data-status=pending]) .body', { hasText: caption }).waitFor(WAIT);
        t.same(await keptUploads(alice.page), [], 'nothing kept once sent');
        const row = bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`);
        await row.getByText(caption).waitFor(WAIT);
        t.pass('Bob has it');
      });

      // Offline, Chromium says in the console that requests and the socket could not go: expected there.
      t.same(errors.filter((e) => !e.includes('net::ERR_INTERNET_DISCONNECTED')), [], 'no page errors');
    });
  }
}
