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

// An import being checked by a job: show its progress, then show the rows.
const importBox = document.getElementById("import");
if (importBox && importBox.dataset.status === "reading") {
  const bar = document.getElementById("import-progress");
  const message = document.getElementById("import-message");
  const poll = async () => {
    const response = await fetch(importBox.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const state = await response.json();
      bar.value = state.progress;
      message.textContent = `Every row is being checked: ${state.progress}% done.`;
      if (state.status !== "reading") {
        window.location.reload();
        return;
      }
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
}

// After a review answer the page opens at #review: put the focus on the next pair's first
// button, so a reviewer goes through the queue with Tab and Enter alone.
if (window.location.hash === "#review") {
  const next = document.querySelector("[data-review-pair] button");
  if (next) next.focus();
}
