// Saves data as a file the browser downloads (an object URL on a temporary link): every export of
// the page (labels, checkpoints, the TRL zip, chart and plane CSVs) goes through here.

/** How long the object URL outlives the click (the download has started by then). */
const REVOKE_AFTER_MS = 1000;

export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

export function downloadText(name: string, text: string, type: string): void {
  downloadBlob(name, new Blob([text], { type }));
}
