// Saves text as a file the browser downloads (an object URL on a temporary link): the labels'
// JSONL export of the storage alert and of the runs list.

/** How long the object URL outlives the click (the download has started by then). */
const REVOKE_AFTER_MS = 1000;

export function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
