// Typeset the \( \) and \[ \] spans pymdownx.arithmatex (generic mode) leaves in the page,
// with the KaTeX shipped in docs/assets/katex (no network). document$ is Material's page
// observable, so instant navigation typesets each new page too.
function chainruleTypeset() {
  renderMathInElement(document.body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(chainruleTypeset);
} else {
  document.addEventListener("DOMContentLoaded", chainruleTypeset);
}
