"""In-page work that can wait until its element is in the window (JavaScript for the clientside callbacks).

`INSTALL` defines window.nxmfgDeferred once: run(element, kind, work) does `work` now when the element is in
the window (or when `now`), else keeps it (the newest per element and kind) and does it when the element
scrolls into view or the browser is idle, whichever comes first (one element after another while the idle
period has 8 ms left, and all of them if none comes within 500 ms). A lever move then paints what the planner
sees without first redrawing a dozen charts and two frames out of sight; they follow within a few hundred
milliseconds. drop(kind) forgets what waits of a kind.
"""

INSTALL = """window.nxmfgDeferred = window.nxmfgDeferred || (function () {
    const pending = new Map();       // element -> Map(kind -> work)
    let idle = null;
    const inView = element => {
        const box = element.getBoundingClientRect();
        return box.bottom > 0 && box.top < (window.innerHeight || document.documentElement.clientHeight);
    };
    const flush = element => {
        const work = pending.get(element);
        pending.delete(element);
        if (seen) { seen.unobserve(element); }
        if (work && element.isConnected) { work.forEach(done => done()); }
    };
    const seen = window.IntersectionObserver ?
        new IntersectionObserver(entries => entries.forEach(e => e.isIntersecting && flush(e.target))) : null;
    const later = deadline => {
        idle = null;
        for (const element of [...pending.keys()]) {
            if (deadline && !deadline.didTimeout && deadline.timeRemaining() < 8) { break; }
            flush(element);
        }
        schedule();
    };
    const schedule = () => {
        if (pending.size && !idle) {
            idle = window.requestIdleCallback ? requestIdleCallback(later, {timeout: 500}) : setTimeout(later, 50);
        }
    };
    return {
        run(element, kind, work, now) {
            const waiting = pending.get(element);
            if (waiting) { waiting.delete(kind); }
            if (now || inView(element)) {
                work();
                if (waiting && !waiting.size) { pending.delete(element); if (seen) { seen.unobserve(element); } }
                return;
            }
            if (!waiting) { pending.set(element, new Map()); if (seen) { seen.observe(element); } }
            pending.get(element).set(kind, work);
            schedule();
        },
        drop(kind) { pending.forEach(work => work.delete(kind)); },
    };
})();
"""
