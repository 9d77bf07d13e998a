// Show every <time> in the reader's own time zone; the UTC time stays in its title (hover).
document.querySelectorAll("time[datetime]").forEach((node) => {
  const when = new Date(node.getAttribute("datetime"));
  if (Number.isNaN(when.getTime()) || node.textContent.includes("ago")) return;
  node.textContent = when.toLocaleString();
});
