// Mounting a long list one item per task: a count that starts at 1 and grows by one per macrotask
// (setTimeout 0) until it reaches the list's length, so that no single task mounts the whole list
// and blocks input for long (issue 11: every panel mounted at once was one 200-250 ms task before
// the first pair; one method's six charts, settings and table views were another 50-75 ms).
// Construct it while a component initialises: its effect belongs to that component.

export class Staged {
  /** Items that may be mounted now. */
  count = $state(1);

  /** `total` is read reactively: a longer list goes on growing, one item per task. */
  constructor(total: () => number) {
    $effect(() => {
      if (this.count >= total()) return;
      const timer = setTimeout(() => (this.count += 1), 0);
      return () => clearTimeout(timer);
    });
  }
}
