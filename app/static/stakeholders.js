// Shows a consolidation's progress while it runs; without scripts, reload the page.
const box = document.getElementById("consolidation");
if (box && ["queued", "running"].includes(box.dataset.status)) {
  const bar = document.getElementById("consolidation-progress");
  const poll = async () => {
    const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const state = await response.json();
      bar.value = state.progress;
      bar.textContent = `${state.progress}%`;
      if (state.status === "ready" || state.status === "failed") {
        window.location.reload();
        return;
      }
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
}
