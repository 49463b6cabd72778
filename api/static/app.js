// Progressive enhancement only: every page works without this file.
// "Weiteres Schlagwort" adds one more empty tag field to a tag list.
document.querySelectorAll("[data-tag-fields]").forEach((fieldset) => {
  const list = fieldset.querySelector(".tag-list");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.textContent = "Weiteres Schlagwort";
  button.addEventListener("click", () => {
    const inputs = list.querySelectorAll("input");
    const template = inputs[inputs.length - 1];
    const number = inputs.length + 1;
    const item = document.createElement("li");
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "tags-" + number;
    label.textContent = "Schlagwort " + number;
    const input = template.cloneNode(false);
    input.id = "tags-" + number;
    input.value = "";
    item.append(label, input);
    list.append(item);
    input.focus();
  });
  fieldset.append(button);
});

// A long text field says how many characters are left; screen readers hear it only when
// few are left (the limit itself is in the hint, and maxlength stops typing past it).
const germanNumber = new Intl.NumberFormat("de-DE");
document.querySelectorAll("textarea[maxlength]").forEach((field) => {
  const counter = document.getElementById(field.id + "-zaehler");
  if (!counter) return;
  const limit = Number(field.getAttribute("maxlength"));
  const update = () => {
    const left = limit - field.value.length;
    counter.textContent = "Noch " + germanNumber.format(left) + " von " +
      germanNumber.format(limit) + " Zeichen.";
    counter.setAttribute("aria-live", left < limit / 10 ? "polite" : "off");
  };
  field.addEventListener("input", update);
  update();
});
