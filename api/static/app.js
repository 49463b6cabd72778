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
