// Progressive enhancement for documents: who else is here, and an export's progress.
// Pages work without it (the export page refreshes itself when scripts are off).

const csrf = () => document.querySelector('input[name="csrf_token"]')?.value ?? "";

function presence() {
  const box = document.getElementById("presence");
  if (!box?.dataset.presenceUrl) return;
  const beat = async () => {
    const body = new URLSearchParams({ section_key: box.dataset.sectionKey ?? "" });
    try {
      const response = await fetch(box.dataset.presenceUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
        body,
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const people = await response.json();
      const here = box.dataset.sectionKey
        ? people.filter((p) => p.section_key === box.dataset.sectionKey)
        : people;
      box.textContent = here.length
        ? `Also here: ${here.map((p) => p.name).join(", ")}`
        : "Nobody else has this open.";
    } catch {
      // Offline for a moment: the next beat tries again.
    }
  };
  setInterval(beat, 20000);
}

function exportProgress() {
  const box = document.getElementById("export");
  if (!box || !["queued", "running"].includes(box.dataset.status)) return;
  const bar = document.getElementById("export-progress");
  const message = document.getElementById("export-message");
  const poll = async () => {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const state = await response.json();
      bar.value = state.progress;
      bar.textContent = `${state.progress}%`;
      if (state.status === "done") {
        message.textContent = "Ready.";
        document.getElementById("export-download").hidden = false;
        return;
      }
      if (state.status === "failed") {
        message.textContent = `${state.error || "The export failed."} Try again from the document.`;
        return;
      }
      message.textContent = `Building the file: ${state.progress}% done.`;
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
}

presence();
exportProgress();
