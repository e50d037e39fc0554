// Accessibility fixes for the Material theme: its search dialog has no accessible name
// (axe: aria-dialog-name). Runs on every page; touches nothing else.
document.querySelectorAll(".md-search[role='dialog']").forEach((el) => {
  if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", "Search the course site");
});
