/**
 * Profile photos in Chromium against a router on the embedded default serving app/build: in
 * settings, "Change photo" takes a picture (the file input), the avatar shows it (the photo the
 * router made, /api/avatars/<id>), and "Remove" brings the initials back; a group's owner changes
 * its photo in the group's info, and the chat list shows it. Screenshots of the profile section
 * at 390x844 and 1440x900, light and dark, and of the group's info go to artifacts/screenshots/avatar-*.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import { appDevice, appServer, appSignUp, chromiumOrSkip, settledScreenshot } from '../../test/support/browser.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const WAIT = { timeout: 15_000 };

if (chromiumOrSkip(t, 'the avatars browser suite')) {
  t.test('a profile photo changed and removed in settings', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const { origin, h } = await appServer(t, STATIC_DIR);
    const errors: string[] = [];
    const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 240, g: 120, b: 20 } } }).png().toBuffer();

    for (const scheme of ['light', 'dark'] as const) {
      const d = await appDevice(t, chromium, origin, `Ann (${scheme})`, scheme, 'avatar', errors);
      await appSignUp(d, `ann_${scheme}_${tag}`, 'Ann Lee');
      await d.page.goto(`${origin}/settings`);
      await d.page.getByRole('heading', { name: 'Settings' }).waitFor(WAIT);
      await d.page.locator('.photo-actions input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
      const photo = d.page.locator('.me .avatar img.photo');
      await photo.waitFor(WAIT);
      t.match(await photo.getAttribute('src'), /^\/api\/avatars\/[0-9a-f-]{36}$/, `${scheme}: the avatar shows the stored photo`);
      await d.page.waitForFunction(() => (document.querySelector('.me .avatar img.photo') as HTMLImageElement | null)?.naturalWidth === 256, undefined, WAIT);
      t.pass(`${scheme}: the photo loaded, 256 px wide`);
      await settledScreenshot(d.page, `${SHOTS}avatar-settings-phone-${scheme}.png`);
      await d.page.setViewportSize({ width: 1440, height: 900 });
      await settledScreenshot(d.page, `${SHOTS}avatar-settings-desktop-${scheme}.png`);
      await d.page.getByRole('button', { name: 'Remove photo' }).click();
      await photo.waitFor({ state: 'detached', ...WAIT });
      t.equal(await d.page.locator('main p.status').textContent(), 'Photo removed.', `${scheme}: removed, the initials are back`);
    }
    // A group's photo, by its owner in the group's info screen.
    const d = await appDevice(t, chromium, origin, 'Ann (group)', 'light', 'avatar', errors);
    await appSignUp(d, `ann_group_${tag}`, 'Ann Lee');
    const ben = await h.user(`ben_${tag}`);
    await d.page.goto(`${origin}/new/group`);
    await d.page.getByLabel('Group name').fill('Photo club');
    await d.page.getByLabel(/Add members by handle/).fill(`@${ben.handle}`);
    await d.page.getByRole('button', { name: 'Add', exact: true }).click();
    await d.page.locator(`[data-testid=picked][data-handle="${ben.handle}"]`).waitFor(WAIT);
    await d.page.getByRole('button', { name: 'Create group' }).click();
    await d.page.waitForURL('**/chat/g-*', WAIT);
    await d.page.goto(`${d.page.url()}/info`);
    await d.page.locator('.hero input[type=file]').setInputFiles({ name: 'club.png', mimeType: 'image/png', buffer: png });
    const groupPhoto = d.page.locator('.hero .avatar img.photo');
    await groupPhoto.waitFor(WAIT);
    t.match(await groupPhoto.getAttribute('src'), /^\/api\/avatars\/[0-9a-f-]{36}$/, "the group's info shows its new photo");
    await settledScreenshot(d.page, `${SHOTS}avatar-group-info-phone-light.png`);
    await d.page.setViewportSize({ width: 1440, height: 900 });
    await settledScreenshot(d.page, `${SHOTS}avatar-group-info-desktop-light.png`);
    const row = d.page.locator('[data-testid=chat-row][data-group="Photo club"] .avatar img.photo');
    await row.waitFor(WAIT);
    t.equal(await row.getAttribute('src'), await groupPhoto.getAttribute('src'), 'the chat list (beside, on a desktop) shows it too');
    t.same(errors, [], 'no page errors');
  });
}
