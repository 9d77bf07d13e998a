// Progressive touches; every page and form works the same without them.

// ------------------------------------------------------------------------------------------ times
// Every <time> shows in the reader's own time zone; the server's UTC text moves to (or stays in)
// its title, for hover. "3 hours ago" texts stay as they are.
const pad = (n) => String(n).padStart(2, "0");
const zoneName = (when) =>
  new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
    .formatToParts(when)
    .find((part) => part.type === "timeZoneName")?.value || "";
const localText = (when) =>
  `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ` +
  `${pad(when.getHours())}:${pad(when.getMinutes())}:${pad(when.getSeconds())} ${zoneName(when)}`.trim();

document.querySelectorAll("time[datetime]").forEach((node) => {
  if (node.dataset.shown === "ago" || /\bago\b|just now/.test(node.textContent)) return;
  const when = new Date(node.getAttribute("datetime"));
  if (Number.isNaN(when.getTime())) return;
  if (!node.title) node.title = node.textContent.trim();
  node.textContent = localText(when);
});

// ------------------------------------------------------------------------------------ rule editor
// A row's member choice only shows while "one member" / "assigned to" is chosen.
document.querySelectorAll(".rule-row select[name$='-targetType']").forEach((target) => {
  const member = target.closest(".row-fields")?.querySelector("select[name$='-targetIdentifier']");
  const box = member?.closest("label");
  if (!box) return;
  const sync = () => { box.hidden = target.value !== "Member"; };
  target.addEventListener("change", sync);
  sync();
});

// "Ignore for …": the custom time only shows once "until the time below" is chosen.
const duration = document.getElementById("ignore-duration");
const customTime = document.querySelector(".custom-time[data-shown-when]");
if (duration && customTime) {
  const sync = () => { customTime.hidden = duration.value !== customTime.dataset.shownWhen; };
  duration.addEventListener("change", sync);
  sync();
}

// ------------------------------------------------------------------------- in-app / all frames
// The links reload the page with ?frames=app|all; here they switch in place and keep the choice
// in the address and in the links to other events.
const eventSection = document.getElementById("event");

function showFrames(mode) {
  if (!eventSection) return;
  eventSection.classList.toggle("frames-app", mode === "app");
  eventSection.classList.toggle("frames-all", mode === "all");
  document.querySelectorAll(".frame-toggle a[data-frames]").forEach((link) => {
    if (link.dataset.frames === mode) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  });
  const here = new URL(window.location.href);
  here.searchParams.set("frames", mode);
  window.history.replaceState(null, "", here);
  document.querySelectorAll("a[data-keeps-query], .histogram-panel .segmented a").forEach((link) => {
    const target = new URL(link.href);
    target.searchParams.set("frames", mode);
    link.href = target.pathname + target.search;
  });
}

document.querySelectorAll("#event a[data-frames]").forEach((link) => {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    showFrames(link.dataset.frames);
  });
});

// ----------------------------------------------------------------------------- the issue list
// j / k move a selection through the issue list (the title link takes focus, so Enter opens it).
// The list's order is remembered for this tab, so j / k on an issue opened from it go on to the
// next / previous issue of the same list.
const STREAM_KEY = "shoal.issue-stream";
const streamRows = [...document.querySelectorAll("table.issues tbody tr")].filter((row) =>
  row.querySelector("a.issue-title"));
let selected = -1;

if (streamRows.length) {
  const issues = streamRows.map((row) => new URL(row.querySelector("a.issue-title").href).pathname);
  try {
    sessionStorage.setItem(STREAM_KEY, JSON.stringify({ list: window.location.pathname + window.location.search, issues }));
  } catch {
    // Storage can be off (private mode, a policy): j / k then work only on the list itself.
  }
}

function selectRow(index) {
  if (!streamRows.length) return false;
  selected = Math.max(0, Math.min(streamRows.length - 1, index));
  streamRows.forEach((row, i) => row.classList.toggle("is-selected", i === selected));
  const link = streamRows[selected].querySelector("a.issue-title");
  link.focus({ preventScroll: true });
  streamRows[selected].scrollIntoView({ block: "nearest" });
  return true;
}

function openSelected() {
  if (selected < 0 || !streamRows.length) return false;
  window.location.href = streamRows[selected].querySelector("a.issue-title").href;
  return true;
}

const issuePage = document.querySelector("[data-issue-page]");

function neighbourIssue(step) {
  if (!issuePage) return false;
  let remembered = null;
  try {
    remembered = JSON.parse(sessionStorage.getItem(STREAM_KEY) || "null");
  } catch {
    return false;
  }
  const issues = remembered?.issues || [];
  const index = issues.indexOf(`/issues/${issuePage.dataset.issuePage}/`);
  const target = index >= 0 ? issues[index + step] : undefined;
  if (!target) return false;
  window.location.href = target;
  return true;
}

// ------------------------------------------------------------------------------------ shortcuts
const help = document.getElementById("shortcuts");
const helpButton = document.querySelector("[data-open-shortcuts]");
if (help && helpButton && typeof help.showModal === "function") {
  helpButton.hidden = false;
  helpButton.addEventListener("click", () => help.showModal());
}

function toggleHelp() {
  if (!help || typeof help.showModal !== "function") return false;
  if (help.open) help.close();
  else help.showModal();
  return true;
}

function clickShortcut(key) {
  const control = document.querySelector(`[data-shortcut="${key}"]`);
  if (!control) return false;
  control.click();
  return true;
}

function openIgnoreMenu() {
  const menu = document.getElementById("ignore-menu");
  if (!menu) return false;
  menu.open = true;
  menu.querySelector(".menu-body button, .menu-body select, .menu-body input:not([type=hidden])")?.focus();
  return true;
}

function closeMenus() {
  const open = document.querySelectorAll("details.menu[open]");
  open.forEach((menu) => { menu.open = false; });
  return open.length > 0;
}

function toggleFrames() {
  const current = document.querySelector(".frame-toggle a[aria-current=true]");
  if (!current) return false;
  showFrames(current.dataset.frames === "app" ? "all" : "app");
  return true;
}

const shortcuts = {
  "?": toggleHelp,
  j: () => (streamRows.length ? selectRow(selected + 1) : neighbourIssue(1)),
  k: () => (streamRows.length ? selectRow(selected - 1) : neighbourIssue(-1)),
  Enter: openSelected,
  r: () => clickShortcut("r"),
  i: openIgnoreMenu,
  a: toggleFrames,
  Escape: closeMenus,
};

const TYPING = "textarea, select, input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit]):not([type=reset])";

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (target instanceof Element && (target.isContentEditable || target.closest(TYPING))) return;
  if (help?.open && event.key !== "?") return; // the dialog has its own Esc and buttons
  // Enter on a link or button already does what it says; only a selected row needs help.
  if (event.key === "Enter" && target instanceof Element && target.closest("a, button, summary")) return;
  const action = shortcuts[event.key];
  if (action && action()) event.preventDefault();
});
