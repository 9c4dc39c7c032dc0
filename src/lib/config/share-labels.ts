// Labels carried in a share link (issue 12): the label list as compact JSON, deflated with fflate
// and written base64url in the address's `labels=` parameter, so that opening the link in a fresh
// browser gives exactly the same list (ids, prompts, completions, answers, provenance). The page
// loads this module with a dynamic import(): fflate stays out of the main bundle.
import { deflateSync, inflateSync, strFromU8, strToU8 } from 'fflate';
import * as v from 'valibot';
import { LabelSchema, type Label } from './label';
import { LABELS_PARAM } from './url';

/**
 * Longest share link the page makes: 32,000 characters. Browsers take far more (Chromium 2 MB),
 * but mail and chat programs cut or refuse long links, and an address bar that long is unusable;
 * about 500-1,000 labels fit (prompts and completions repeat, so they deflate well).
 */
export const MAX_LINK_LENGTH = 32_000;
/** Inflated JSON larger than this is refused (a hand-made link cannot make the page allocate gigabytes). */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;
/** The format of the payload: bumped if its layout changes, so an old link is named, not misread. */
const PAYLOAD_VERSION = 1;

const Payload = v.object({ v: v.literal(PAYLOAD_VERSION, 'was made by another version of the page'), labels: v.array(LabelSchema, 'holds no label list') });

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('it holds characters that base64url does not use (was it cut or edited?)');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The `labels=` value for `labels`. */
export function encodeLabels(labels: readonly Label[]): string {
  return toBase64Url(deflateSync(strToU8(JSON.stringify({ v: PAYLOAD_VERSION, labels })), { level: 9 }));
}

/** The labels of a `labels=` value; throws an Error whose message says what is wrong with the link. */
export function decodeLabels(value: string): Label[] {
  let json: string;
  try {
    const inflated = inflateSync(fromBase64Url(value));
    if (inflated.length > MAX_INFLATED_BYTES) throw new Error('it unpacks to more than 16 MB');
    json = strFromU8(inflated);
  } catch (e) {
    throw new Error(`the labels in the link cannot be unpacked: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('the labels in the link are not valid JSON');
  }
  const parsed = v.safeParse(Payload, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new Error(`the labels in the link are malformed (${where ? `${where}: ` : ''}${issue.message})`);
  }
  return parsed.output.labels;
}

/** A share link: `pageUrl` (its address, settings and seed included) with `labels` added, or with any labels removed. */
export function shareLink(pageUrl: string, labels: readonly Label[] | null): string {
  const url = new URL(pageUrl);
  url.searchParams.delete(LABELS_PARAM);
  if (labels !== null) url.searchParams.set(LABELS_PARAM, encodeLabels(labels));
  return url.toString();
}
