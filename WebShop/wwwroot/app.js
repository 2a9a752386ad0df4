'use strict';
// The storefront: catalogue, cart, placing an order, and the order's status as the shop pushes it.

const $ = id => document.getElementById(id);
const cart = new Map(); // product_id → quantity as typed (a number, or null when the field is empty)
let products = [];
let following = null; // the EventSource of the order on screen

/** An element with text content only: names and details from the server never become markup. */
function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

const product = id => products.find(p => p.product_id === id);

// Stock levels come from WebShop's read of the stock-levels topic, which a shop just started may not
// have caught up with: unknown levels show '…' and are asked for again until known.
const stockRetry = 1000;
let stockRetryTimer;

async function loadProducts() {
  products = await (await fetch('/api/products')).json();
  const rows = $('products').tBodies[0];
  const shown = [...rows.querySelectorAll('td[data-stock]')].map(td => td.dataset.stock);
  if (shown.join() === products.map(p => p.product_id).join()) {
    // Same catalogue: only the levels change, so a button being clicked is not swapped under the pointer.
    for (const p of products) rows.querySelector(`td[data-stock="${CSS.escape(p.product_id)}"]`).textContent = p.in_stock ?? '…';
  } else {
    rows.replaceChildren(...products.map(p => el('tr', {},
      el('td', { textContent: p.name }),
      el('td', { className: 'number', textContent: p.price }),
      el('td', { className: 'number', textContent: p.in_stock ?? '…', dataset: { stock: p.product_id } }),
      el('td', { className: 'action' }, el('button', { type: 'button', textContent: 'Add', ariaLabel: `Add ${p.name}`, dataset: { id: p.product_id } })))));
    renderCart();
  }
  clearTimeout(stockRetryTimer); // one retry pending at most, however often this is called
  if (products.some(p => p.in_stock === null || p.in_stock === undefined)) stockRetryTimer = setTimeout(loadProducts, stockRetry);
}

function renderCart() {
  const lines = [...cart.entries()].map(([id, quantity], index) => {
    const p = product(id);
    const input = el('input', { id: `quantity-${id}`, type: 'number', min: 1, step: 1, inputMode: 'numeric', value: quantity ?? '', dataset: { id } });
    input.setAttribute('aria-describedby', `line-${index}-error`);
    return el('li', { className: 'line', dataset: { line: index } },
      el('label', { htmlFor: input.id, className: 'name', textContent: p?.name ?? id }),
      el('span', { className: 'quantity' }, input),
      el('span', { className: 'price', textContent: `× ${p?.price ?? '?'}` }),
      el('button', { type: 'button', className: 'remove', textContent: '×', ariaLabel: `Remove ${p?.name ?? id}`, dataset: { remove: id } }),
      el('p', { className: 'field-error', id: `line-${index}-error`, ariaLive: 'polite' }));
  });
  $('cart').replaceChildren(...lines);
  $('cart-empty').hidden = cart.size > 0;
  renderTotal();
}

function renderTotal() {
  $('total').textContent = [...cart.entries()].reduce((sum, [id, q]) => sum + (q ?? 0) * (product(id)?.price ?? 0), 0);
}

function clearErrors() {
  for (const node of document.querySelectorAll('.field-error, #error')) node.textContent = '';
  for (const node of document.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

/**
 * Puts each message of a problem-details 400 next to the field it names: `user_id`, `items`,
 * `total_price`, or a cart line for `items[i].…`. Anything else is shown as a general message.
 */
function showProblem(problem) {
  const general = [];
  for (const [key, messages] of Object.entries(problem.errors ?? {})) {
    const text = messages.join(' ');
    const line = /^items\[(\d+)\]\.(\w+)$/.exec(key);
    const target = line
      ? document.querySelector(`#cart [data-line="${line[1]}"] .field-error`)
      : document.querySelector(`.field-error[data-field="${CSS.escape(key)}"]`);
    if (!target) { general.push(`${key}: ${text}`); continue; }
    target.textContent = target.textContent ? `${target.textContent} ${text}` : text;
    const field = line ? document.querySelector(`#cart [data-line="${line[1]}"] input`) : $(key);
    field?.setAttribute('aria-invalid', 'true');
  }
  if (!problem.errors) general.push(problem.detail ?? problem.title ?? 'The order was refused.');
  else if (general.length > 0) general.unshift(`${problem.title ?? 'The order is not valid'}:`);
  $('error').textContent = general.join(' ');
  document.querySelector('[aria-invalid="true"]')?.focus();
}

$('products').addEventListener('click', e => {
  const id = e.target.closest('button')?.dataset.id;
  if (!id) return;
  cart.set(id, (cart.get(id) ?? 0) + 1);
  renderCart();
});

$('cart').addEventListener('input', e => {
  const id = e.target.dataset.id;
  if (!id) return;
  cart.set(id, e.target.value === '' ? null : Number(e.target.value));
  renderTotal();
});

$('cart').addEventListener('click', e => {
  const id = e.target.closest('button')?.dataset.remove;
  if (!id) return;
  cart.delete(id);
  clearErrors();
  renderCart();
});

$('order').addEventListener('submit', async e => {
  e.preventDefault();
  clearErrors();
  const items = [...cart.entries()].map(([id, quantity]) => ({ product_id: id, quantity, price: product(id)?.price }));
  const body = { user_id: $('user_id').value.trim(), email: $('email').value.trim() || null, items, total_price: Number($('total').textContent) };
  $('place').disabled = true;
  try {
    const response = await fetch('/api/orders', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) { showProblem(answer); return; }
    cart.clear();
    renderCart();
    follow(answer.order_id);
  } catch (error) {
    $('error').textContent = `The shop did not answer: ${error.message}`;
  } finally {
    $('place').disabled = false;
  }
});

// Final once the outcome is known and its mail is sent: the server then ends the stream too.
const isFinal = view => ['Completed', 'Rejected'].includes(view.status) && view.history.some(h => h.status === 'Notified');

/** One EventSource per order: the current view first, then each change as a service reports it. */
function follow(orderId) {
  following?.close();
  $('order-id').textContent = orderId;
  $('order-panel').hidden = false;
  $('status').replaceChildren();
  const source = following = new EventSource(`/api/orders/${encodeURIComponent(orderId)}/events`);
  source.onmessage = e => {
    const view = JSON.parse(e.data);
    showOrder(view);
    if (isFinal(view)) {
      // Closed here, or EventSource would reconnect when the server ends the stream.
      source.close();
      loadProducts();
      loadSales();
    }
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) $('error').textContent = `Lost the status of order ${orderId}; reload the page to try again.`;
  };
  $('order-panel').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

function showOrder(view) {
  const badge = $('order-status');
  badge.textContent = view.reason ? `${view.status}: ${view.reason}` : view.status;
  badge.dataset.status = view.status;
  $('status').replaceChildren(...view.history.map(h => el('li', { dataset: { status: h.status } },
    el('span', {}, el('strong', { textContent: h.status }), h.detail ? el('span', { className: 'detail', textContent: ` — ${h.detail}` }) : null),
    el('time', { dateTime: h.at, textContent: new Date(h.at).toLocaleTimeString() }))));
}

// Built by WebShop's own consumer group from the orders topic (GET /api/analytics).
async function loadSales() {
  const s = await (await fetch('/api/analytics')).json();
  $('sales').textContent = `${s.orders_placed} ${s.orders_placed === 1 ? 'order' : 'orders'} placed, ${s.orders_completed} completed, ${s.orders_rejected} rejected; revenue ${s.revenue}`;
  $('top').replaceChildren(...s.top_products.map(p => el('li', { textContent: `${p.name}: ${p.units} sold (${p.revenue})` })));
}

loadProducts();
loadSales();
// The catalogue's levels and the sales panel change with everyone's orders, and WebShop's readers
// of them lag the order's own events by up to a tenth of a second: refreshed while the page is seen.
const readModelRefresh = 5000;
setInterval(() => {
  if (document.hidden) return;
  loadProducts();
  loadSales();
}, readModelRefresh);
