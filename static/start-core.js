// Starts PathLab's simulation core (a Web Worker) at once, while the page's
// own code is still loading, so that the two load side by side. The page
// takes the worker over when it starts, with whatever the worker said
// meanwhile; if this fails, the page starts the worker itself.
(() => {
  try {
    const worker = new Worker('./pathlab-core_loader.js');
    const early = [];
    worker.onmessage = (m) => early.push(m);
    worker.onerror = (e) => { e.preventDefault(); early.push(e); };
    self.pathlabCore = { worker, early };
  } catch (_) {
    // The page starts its own, and says so if it cannot.
  }
})();
