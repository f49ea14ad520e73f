/**
 * The files a room's composer holds before they are sent: each uploads on its own
 * (`POST /api/uploads`, an XMLHttpRequest for its progress and its abort), at most
 * `PARALLEL` at once (the router allows 4 per user). Offline they wait, kept in IndexedDB with the
 * send asked for (so a reload does not lose them: `restoreAttachDrafts`), and start when the
 * browser is online and the chat's socket is up again. Sending is asked once (`arm`): the message
 * goes into the outbox with the attachments as soon as every upload finished, even if another chat
 * is open by then. A failed upload stays with its sentence and a retry; the send waits for it (or
 * for its removal).
 */
import { LIMITS, type Attachment, type Message } from '$protocol/frames.ts';
import type { ErrorResponse, UploadResponse } from '$protocol/http.ts';
import { sentenceFor } from '../errors.ts';
import { chat } from '../chat/store.svelte.ts';
import { loadPendingUploads, savePendingUploads } from '../chat/offline.db.ts';
import type { PendingFileRecord, PendingUploadsRecord } from '../chat/offline.schema.ts';
import { overallProgress } from './layout.ts';

/** Uploads under way at once per tab: under the router's `UPLOADS_CONCURRENT_MAX` (4). */
const PARALLEL = 3;

export type UploadState = 'waiting' | 'uploading' | 'done' | 'failed';

/** One file of the composer: its preview, where its upload is, and the stored upload once there. */
export class PendingFile {
  /** An object URL of the file itself for a picture the browser can show; null for other files. */
  readonly preview: string | null;
  state = $state<UploadState>('waiting');
  loaded = $state(0);
  attachment = $state<Attachment | null>(null);
  /** Why the upload failed, as a sentence. */
  error = $state<string | null>(null);
  xhr: XMLHttpRequest | null = null;

  constructor(
    readonly file: File,
    readonly key: string = crypto.randomUUID(),
  ) {
    this.preview = /^image\/(png|jpeg|gif|webp|avif)$/.test(file.type) ? URL.createObjectURL(file) : null;
  }

  /** A file kept in IndexedDB: uploaded already when it has its attachment, else waiting. */
  static restored(r: PendingFileRecord): PendingFile {
    const f = new PendingFile(r.file, r.key);
    if (r.attachment) {
      f.attachment = r.attachment;
      f.state = 'done';
      f.loaded = f.total;
    }
    return f;
  }

  get total(): number {
    return this.file.size;
  }
}

/** The caption and reply a send asked for, waiting for the uploads. */
interface Armed {
  caption: string;
  replyTo?: Message;
}

export class AttachDraft {
  files = $state<PendingFile[]>([]);
  armed = $state<Armed | null>(null);

  constructor(readonly room: string) {}

  /** All bytes sent of all files, 0..1. */
  get progress(): number {
    return overallProgress(this.files.map((f) => ({ loaded: f.state === 'done' ? f.total : f.loaded, total: f.total })));
  }

  get ready(): boolean {
    return this.files.length > 0 && this.files.every((f) => f.state === 'done');
  }

  /** Adds files (a picker, a paste, a drop); starts their uploads. A sentence when some did not fit. */
  add(files: readonly File[]): string | null {
    const room = LIMITS.attachmentsMax - this.files.length;
    const taken = files.slice(0, Math.max(0, room));
    this.files.push(...taken.map((f) => new PendingFile(f)));
    this.save();
    pump();
    return taken.length < files.length ? `A message carries at most ${LIMITS.attachmentsMax} files.` : null;
  }

  /** Takes a file out (cancelling its upload); the send may go now. */
  remove(key: string): void {
    const f = this.files.find((x) => x.key === key);
    if (!f) return;
    f.xhr?.abort();
    if (f.preview) URL.revokeObjectURL(f.preview);
    this.files = this.files.filter((x) => x !== f);
    if (this.files.length === 0) this.armed = null;
    this.save();
    pump();
  }

  retry(key: string): void {
    const f = this.files.find((x) => x.key === key);
    if (!f || f.state !== 'failed') return;
    f.state = 'waiting';
    f.error = null;
    f.loaded = 0;
    pump();
  }

  /** Sends the message with these files and `caption` once every upload finished (now, if they have). */
  arm(caption: string, replyTo?: Message): void {
    this.armed = replyTo ? { caption, replyTo } : { caption };
    this.save();
    pump();
  }

  /** Drops everything: uploads aborted, previews freed. Returns the caption a send had taken. */
  clear(): string {
    const caption = this.armed?.caption ?? '';
    for (const f of this.files) {
      f.xhr?.abort();
      if (f.preview) URL.revokeObjectURL(f.preview);
    }
    this.files = [];
    this.armed = null;
    this.save();
    return caption;
  }

  /** The armed send, when every upload is done: into the outbox, and the draft is gone. */
  settle(): void {
    if (!this.armed || !this.ready) return;
    const { caption, replyTo } = this.armed;
    const attachments = this.files.map((f) => f.attachment!);
    if (!chat.send(this.room, caption, replyTo, attachments)) {
      this.armed = null;
      chat.say('Not sent: this chat cannot take messages now.');
      return;
    }
    for (const f of this.files) if (f.preview) URL.revokeObjectURL(f.preview);
    this.files = [];
    this.armed = null;
    this.save();
  }

  /** Keeps the files and the send asked for in IndexedDB (writes in order; a failing IndexedDB only loses the keeping). */
  save(): void {
    const user = chat.me?.id;
    if (user === undefined) return;
    const record: PendingUploadsRecord = {
      user,
      room: this.room,
      files: this.files.map((f) => ({ key: f.key, file: f.file, attachment: $state.snapshot(f.attachment) })),
      armed: $state.snapshot(this.armed),
    };
    writes = writes.then(() => savePendingUploads(record)).catch(() => undefined);
  }
}

let writes: Promise<void> = Promise.resolve();

/** Each room's files, kept while another chat is open (and their uploads go on); an empty one stays (the page holds it). */
const drafts = new Map<string, AttachDraft>();

export function attachDraft(room: string): AttachDraft {
  let d = drafts.get(room);
  if (!d) drafts.set(room, (d = new AttachDraft(room)));
  return d;
}

/** Puts back the composer files `user` had not sent (kept in IndexedDB) and starts what can start. */
export async function restoreAttachDrafts(user: number): Promise<void> {
  let held: PendingUploadsRecord[];
  try {
    held = await loadPendingUploads(user);
  } catch {
    return;
  }
  if (chat.me?.id !== user) return;
  for (const r of held) {
    const d = attachDraft(r.room);
    // Files added in this tab meanwhile win: they are newer than what was kept.
    if (d.files.length > 0) continue;
    d.files = r.files.map((x) => PendingFile.restored(x));
    d.armed = r.armed;
  }
  pump();
}

/**
 * Whether uploads may go: the browser says online and the chat's socket is up. navigator.onLine
 * alone can say online with no way out (a page reloaded offline reads true in Chromium); the socket
 * reaching the router is the proof that an upload can too.
 */
const connected = () => navigator.onLine && chat.connection === 'online';

/** Starts waiting uploads while there is room and a connection; sends what is ready. */
function pump(): void {
  const all = [...drafts.values()];
  let running = all.reduce((n, d) => n + d.files.filter((f) => f.state === 'uploading').length, 0);
  for (const d of all) {
    for (const f of d.files) {
      if (running >= PARALLEL || !connected()) break;
      if (f.state !== 'waiting') continue;
      upload(d, f);
      running++;
    }
    d.settle();
  }
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', pump);
  // The socket back up: what waited for the connection goes.
  $effect.root(() => {
    $effect(() => {
      if (chat.connection === 'online') pump();
    });
  });
}

function upload(d: AttachDraft, f: PendingFile): void {
  const xhr = new XMLHttpRequest();
  f.xhr = xhr;
  f.state = 'uploading';
  f.loaded = 0;
  xhr.open('POST', '/api/uploads');
  xhr.withCredentials = true;
  xhr.setRequestHeader('X-File-Name', encodeURIComponent(f.file.name || 'file'));
  xhr.responseType = 'json';
  xhr.upload.onprogress = (e) => {
    f.loaded = e.loaded;
  };
  const end = (state: UploadState, error: string | null = null) => {
    f.xhr = null;
    f.state = state;
    f.error = error;
    pump();
  };
  xhr.onload = () => {
    if (xhr.status === 201) {
      f.attachment = (xhr.response as UploadResponse).upload;
      f.loaded = f.total;
      end('done');
      // Uploaded: a reload now sends the stored upload instead of the bytes again.
      return d.save();
    }
    end('failed', sentenceFor((xhr.response as Partial<ErrorResponse> | null)?.error?.code ?? 'internal'));
  };
  // Offline (or gone offline mid-way): it waits for the connection; otherwise it is an error to retry.
  xhr.onerror = () => (connected() ? end('failed', sentenceFor('upload_truncated')) : end('waiting'));
  xhr.onabort = () => {
    f.xhr = null;
  };
  xhr.send(f.file);
}
