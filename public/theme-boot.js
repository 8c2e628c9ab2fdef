try {
  var t = localStorage.getItem("flowscope.theme");
  if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
} catch (e) {}
