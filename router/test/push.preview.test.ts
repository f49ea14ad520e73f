import t from 'tap';
import { attachmentsPreview as preview } from '../../protocol/attachments.ts';
import { PREVIEW_CHARS } from '../../workers/tasks/task.types.ts';

const photo = { id: 'p', name: 'IMG_1.jpg', type: 'image/jpeg', size: 10, width: 4, height: 3 };
const pdf = { id: 'f', name: 'report.pdf', type: 'application/pdf', size: 10 };
/** As the push notifier calls it: file names clipped like bodies. */
const attachmentsPreview = (a: Parameters<typeof preview>[0]) => preview(a, PREVIEW_CHARS);

t.test('a notification names attachments instead of the body', async (t) => {
  t.equal(attachmentsPreview([photo]), 'Photo', 'one photo');
  t.equal(attachmentsPreview([photo, photo, photo]), '3 photos', 'several');
  t.equal(attachmentsPreview([pdf]), 'File: report.pdf', 'a file by its name');
  t.equal(attachmentsPreview([photo, pdf]), 'File: report.pdf and 1 more', 'a file among photos');
  t.equal(attachmentsPreview([{ ...pdf, name: 'x'.repeat(300) }]), `File: ${'x'.repeat(PREVIEW_CHARS)}…`, 'a long name is clipped like a body');
});
