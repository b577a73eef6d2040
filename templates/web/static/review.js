// The review screens' buttons: resolving a message in review, accepting or discarding a fax order.
// Pages say where to post with data- attributes (no inline script: the Content-Security-Policy forbids
// it); every post goes through window.torii.postJson, which sends the session's CSRF token.
"use strict";

(function () {
  function show(text, ok) {
    const result = document.getElementById("result");
    if (!result) return;
    result.textContent = text;
    result.className = ok ? "ok" : "error";
  }

  function errorText(answer) {
    const data = answer.data || {};
    return "エラー / Error (" + answer.status + "): " + (data.error || JSON.stringify(data.detail || data));
  }

  async function post(path, body, buttons, done) {
    buttons.forEach((button) => { button.disabled = true; });
    let answer;
    try {
      answer = await window.torii.postJson(path, body);
    } catch (e) {
      answer = {ok: false, status: 0, data: {error: String(e)}};
    }
    if (answer.ok) {
      show(done(answer.data), true);
      setTimeout(() => window.location.reload(), 400);
    } else {
      show(errorText(answer), false);
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  // A message in review: one button per answer its object takes.
  function wireResolve(form) {
    const buttons = [...form.querySelectorAll("button[data-intent]")];
    const objectType = form.dataset.objectType;
    buttons.forEach((button) => button.addEventListener("click", () => {
      const intent = button.dataset.intent;
      const body = {intent: intent};
      if (objectType === "invitation") {
        const contact = form.querySelector("input[name=contact_person]");
        if (contact && contact.value.trim()) body.contact_person = contact.value.trim();
      } else if (objectType === "order") {
        if (intent === "partial") {
          body.quantities = {};
          form.querySelectorAll("input[name=quantity][data-position]").forEach((input) => {
            body.quantities[input.dataset.position] = input.value.trim();
          });
        }
        const date = form.querySelector("input[name=delivery_date]");
        if (date && date.value && intent !== "decline") body.delivery_date = date.value;
      }
      post(form.dataset.resolve, body, buttons.filter((b) => !b.disabled),
           (data) => "OK: " + intent + " → " + data.status);
    }));
    const dismiss = document.getElementById("not-an-answer");
    if (dismiss) {
      dismiss.addEventListener("click", () => {
        const reason = form.querySelector("input[name=dismiss_reason]").value.trim();
        post(dismiss.dataset.dismiss, {reason: reason}, [...buttons, dismiss].filter((b) => !b.disabled),
             (data) => "回答ではない / Not an answer → " + data.status);
      });
    }
    form.addEventListener("submit", (event) => event.preventDefault());
  }

  // A fax order under review: the lines as corrected, or discarded.
  function wireFaxOrder(form) {
    const accept = document.getElementById("accept-button");
    const discard = document.getElementById("discard-button");
    const buttons = [accept, discard].filter(Boolean);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!accept) return;
      const lines = [...form.querySelectorAll("tr[data-position]")].map((row) => ({
        position: parseInt(row.dataset.position, 10),
        item: row.dataset.item || undefined,
        product_id: parseInt(row.querySelector("select[name=product]").value, 10) || null,
        quantity: row.querySelector("input[name=quantity]").value.trim(),
      })).filter((line) => line.product_id !== null);  // "leave out" drops the line
      const body = {lines: lines, delivery_date: form.elements.delivery_date.value || null,
                    note: form.elements.note.value};
      post(form.dataset.accept, body, buttons, (data) =>
        "受付しました / Accepted" + (data.order ? ": " + data.order.number : ""));
    });
    if (discard) {
      discard.addEventListener("click", () => {
        const reason = form.elements.discard_reason.value.trim() || "discarded in the console";
        post(form.dataset.discard, {reason: reason}, buttons, () => "破棄しました / Discarded");
      });
    }
  }

  function wire() {
    const resolve = document.getElementById("resolve");
    if (resolve) wireResolve(resolve);
    const faxOrder = document.getElementById("fax-order");
    if (faxOrder && faxOrder.dataset.accept) wireFaxOrder(faxOrder);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
