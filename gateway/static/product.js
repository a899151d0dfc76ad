// The product page without a round trip: the picture, price, stock note and
// the sizes available follow the chosen colour and size. The page works
// without this script; the form posts the same fields either way.
(function () {
  "use strict";
  var data = document.getElementById("variant-data");
  var form = document.getElementById("buy-form");
  if (!data || !form) return;
  var variants = JSON.parse(data.textContent);
  var low = 5;
  function chosen(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }
  function note(v) {
    if (!v) return "Not made in this size and colour";
    if (v.available === 0) return v.in_cart > 0 ? "All we have of this is in your cart" : "Sold out in this size and colour";
    var text = v.available <= low ? "Only " + v.available + " left" : "";
    if (v.in_cart > 0) text += (text ? " · " : "") + v.in_cart + " in your cart";
    return text;
  }
  function update() {
    var color = chosen("color"), size = chosen("size");
    var v = variants.find(function (x) { return x.color === color && x.size === size; });
    document.getElementById("chosen-color").textContent = color;
    document.getElementById("chosen-size").textContent = size;
    document.getElementById("stock-note").textContent = note(v);
    if (v) document.getElementById("product-price").textContent = v.price;
    var picture = document.getElementById("product-picture");
    var shown = variants.find(function (x) { return x.color === color; });
    if (shown && picture.getAttribute("src") !== shown.image) {
      picture.src = shown.image;
      picture.alt = picture.alt.replace(/ in .*$/, "") + " in " + color;
    }
    form.querySelectorAll("label.size-choice").forEach(function (label) {
      var s = label.querySelector("input").value;
      var ok = variants.some(function (x) { return x.color === color && x.size === s && x.available > 0; });
      label.classList.toggle("out", !ok);
    });
    var add = document.getElementById("add-to-cart");
    if (add) add.disabled = !v || v.available === 0;
  }
  form.addEventListener("change", update);
  update();
})();
