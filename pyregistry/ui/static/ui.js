// pyregistry web UI: the little JavaScript it has (every page also works without it).
// Copy buttons: <button data-copy="ID"> copies the value of the input with that id.
"use strict";

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Plain-HTTP pages on another host have no clipboard API: the old way still works.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const done = document.execCommand("copy");
  document.body.removeChild(area);
  return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const label = button.textContent;
  // Screen readers hear the outcome through the status line beside the buttons.
  const status = button.parentElement.parentElement.querySelector("[data-copy-status]");
  const say = (text) => { if (status) status.textContent = text; };
  copyText(field.value).then(
    () => {
      button.textContent = "Copied";
      button.dataset.copied = field.value;
      say("Copied: " + field.value);
    },
    () => { field.select(); button.textContent = "Press Ctrl+C"; say("Selected: press Ctrl+C"); },
  ).finally(() => setTimeout(() => { button.textContent = label; }, 2000));
});

// Selecting the whole command when its field gets focus (keyboard users copy with Ctrl+C).
document.addEventListener("focusin", (event) => {
  if (event.target.matches("input[data-select-all]")) event.target.select();
});
