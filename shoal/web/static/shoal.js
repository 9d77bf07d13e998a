// Show every <time> in the reader's own time zone; the UTC time stays in its title (hover).
document.querySelectorAll("time[datetime]").forEach((node) => {
  const when = new Date(node.getAttribute("datetime"));
  if (Number.isNaN(when.getTime()) || node.textContent.includes("ago")) return;
  node.textContent = when.toLocaleString();
});

// Progressive touches; every form works the same without them.
// The rule editor: a row's member choice only shows while "one member" / "assigned to" is chosen.
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
