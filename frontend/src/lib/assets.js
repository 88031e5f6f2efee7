// The build manifest the server put into the page (<script type="application/json">):
// hashed asset names, the Pyodide folder and the asset version.
let cached = null;

export function manifest() {
  if (!cached) {
    const node = document.getElementById("asset-manifest");
    try {
      cached = node ? JSON.parse(node.textContent) : {};
    } catch {
      cached = {};
    }
  }
  return cached;
}
