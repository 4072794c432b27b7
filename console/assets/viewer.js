// The PDF viewer: pdf.js (vendored, loaded only on this page) draws one
// page at a time on a canvas, with page navigation and zoom. It reads
// the document from the download URL; eval stays off (the CSP forbids it).
const script = document.getElementById("viewer-script");
const box = document.getElementById("pdf");
const canvas = document.getElementById("pdf-canvas");
const label = document.getElementById("pdf-page");
const prev = document.getElementById("pdf-prev");
const next = document.getElementById("pdf-next");
let pdf = null, page = 1, scale = 1.25, busy = false;

async function draw() {
  if (!pdf || busy) return;
  busy = true;
  try {
    const p = await pdf.getPage(page);
    const viewport = p.getViewport({ scale: scale * (window.devicePixelRatio || 1) });
    canvas.width = viewport.width;
    canvas.height = viewport.height;
    canvas.style.width = (viewport.width / (window.devicePixelRatio || 1)) + "px";
    await p.render({ canvasContext: canvas.getContext("2d"), viewport: viewport, canvas: canvas }).promise;
    label.textContent = "Page " + page + " of " + pdf.numPages;
    prev.disabled = page <= 1;
    next.disabled = page >= pdf.numPages;
    box.dataset.rendered = String(page);
  } finally {
    busy = false;
  }
}

async function main() {
  const lib = await import(script.dataset.pdfjs);
  lib.GlobalWorkerOptions.workerSrc = box.dataset.worker;
  pdf = await lib.getDocument({ url: box.dataset.src, isEvalSupported: false, withCredentials: true }).promise;
  prev.addEventListener("click", () => { if (page > 1) { page--; draw(); } });
  next.addEventListener("click", () => { if (page < pdf.numPages) { page++; draw(); } });
  document.getElementById("pdf-zoom-in").addEventListener("click", () => { scale = Math.min(4, scale * 1.25); draw(); });
  document.getElementById("pdf-zoom-out").addEventListener("click", () => { scale = Math.max(0.25, scale / 1.25); draw(); });
  await draw();
}

main().catch((err) => {
  label.textContent = "The PDF could not be shown here; download it instead.";
  box.dataset.error = String(err && err.message || err);
});
