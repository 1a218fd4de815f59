/** Polls `check` every 50 ms until it holds, or throws once `deadlineMs` has passed (never a fixed sleep). */
export async function eventually(check: () => boolean | Promise<boolean>, deadlineMs = 20_000, what = 'condition'): Promise<void> {

    const deadline = Date.now() + deadlineMs;
    while (!(await check())) {
        if (Date.now() > deadline) {
            throw new Error(`${what} not reached before the deadline`);
        }

        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}
