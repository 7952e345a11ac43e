/**
 * A form's one piece of work at a time: whether it is under way (its buttons wait) and how
 * the last attempt failed (shown in place, so the failure is kept rather than thrown).
 */
export class Work {
  busy = $state(false);
  error = $state<unknown>(null);

  async run(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await work();
    } catch (caught) {
      this.error = caught;
    } finally {
      this.busy = false;
    }
  }
}
