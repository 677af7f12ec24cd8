// Stripe's Payment Element on the pay page. Loaded only there, after https://js.stripe.com/v3/.
// The page passes the publishable key, the PaymentIntent's client secret and where to come
// back to as data- attributes: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) return;
  var message = document.getElementById("payment-message");
  var submit = document.getElementById("payment-submit");

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  if (typeof window.Stripe !== "function") {
    show("The card form could not load. Check your connection and reload the page, or pay another way.");
    return;
  }

  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  var paymentElement = elements.create("payment", { layout: "tabs" });
  var container = document.getElementById("payment-element");
  container.textContent = "";
  paymentElement.mount(container);
  paymentElement.on("ready", function () {
    submit.disabled = false;
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit.disabled = true;
    show("");
    // On success Stripe sends the shopper to return_url (the order's status page); the
    // webhook, not this redirect, marks the order paid.
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          show(result.error.message || "The payment did not go through. Please try again.");
          submit.disabled = false;
        }
      });
  });
})();
