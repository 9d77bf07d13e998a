// "Copy" buttons on the project pages. They stay hidden without script: the code is then plain
// text to select and copy by hand.
document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = source.textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // No clipboard API outside a secure context (plain http to a LAN host): select the code so
      // the reader can press Ctrl+C, and try the old command.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copied = document.execCommand("copy");
    }
    const said = copied ? "Copied" : "Selected: press Ctrl+C";
    button.textContent = said;
    // The button's name stays "Copy …"; screen readers hear the outcome from the status next to it.
    const status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = said;
    setTimeout(() => {
      button.textContent = "Copy";
      if (status) status.textContent = "";
    }, 2000);
  });
});
