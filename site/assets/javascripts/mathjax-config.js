// MathJax 3 configuration for pymdownx.arithmatex (generic mode): typeset only the
// \( \) and \[ \] spans that arithmatex marks. MathJax itself is served from
// assets/mathjax (copied from node_modules by the site hooks), never from a CDN.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
    macros: {
      E: "\\mathbb{E}",
      R: "\\mathbb{R}",
      N: "\\mathcal{N}",
      I: "\\mathbf{I}",
      abar: "\\bar{\\alpha}",
      KL: "D_{\\mathrm{KL}}",
      dd: "\\mathrm{d}",
      given: "\\,|\\,",
    },
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
