/*
 * The shared knowledge graph page. It reads the share token from its own address, fetches
 * /api/v1/shared/graphs/{token} from the same server and draws the graph as SVG with a small,
 * deterministic force layout. No third-party code, no other requests. Every piece of data is
 * written with textContent or as an attribute value, never parsed as markup.
 */
'use strict';

(function () {
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var KINDS = { campaign: 'Campaign', theme: 'Theme', finding: 'Finding', tag: 'Tag', quote: 'Quote', participant: 'Participant' };
  // Rest length and stiffness of each kind of edge.
  var LENGTH = { contains: 150, evidence: 58, said_by: 34, tagged: 105, shares_participants: 190 };
  var STIFFNESS = { contains: 0.035, evidence: 0.12, said_by: 0.16, tagged: 0.035, shares_participants: 0.008 };
  var LABELLED = { campaign: 34, theme: 34, finding: 30, tag: 24 };

  var svg = document.getElementById('graph');
  var stage = document.getElementById('stage');
  var statusEl = document.getElementById('status');
  var panel = document.getElementById('panel');
  var panelKind = document.getElementById('panel-kind');
  var panelTitle = document.getElementById('panel-title');
  var panelBody = document.getElementById('panel-body');

  var view = { k: 1, tx: 0, ty: 0, touched: false };
  var viewport = null;
  var nodeLayer = null;
  var graph = null;
  var selected = null;

  function setStatus(text) {
    statusEl.textContent = text;
    statusEl.hidden = !text;
  }

  function html(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) { e.setAttribute(name, String(attrs[name])); });
    return e;
  }

  function shorten(text, n) {
    var chars = Array.from(text);
    return chars.length <= n ? text : chars.slice(0, n - 1).join('').trim() + '\u2026';
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  // FNV-1a, for deterministic jitter.
  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  function radius(n) {
    var w = Math.max(0, n.weight);
    switch (n.type) {
      case 'campaign': return 18;
      case 'theme': return Math.min(26, 9 + 3 * Math.sqrt(w));
      case 'finding': return Math.min(22, 7 + 2.5 * Math.sqrt(w));
      case 'tag': return Math.min(12, 5 + Math.sqrt(w));
      case 'participant': return Math.min(13, 6 + 1.5 * Math.sqrt(w));
      default: return Math.min(9, 4 + w);
    }
  }

  // ---- Loading -------------------------------------------------------------------------

  var parts = location.pathname.split('/').filter(Boolean);
  var token = parts[parts.length - 1] || '';

  fetch('/api/v1/shared/graphs/' + encodeURIComponent(token), {
    credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', headers: { Accept: 'application/json' }
  }).then(function (res) {
    if (res.status === 404) throw new Error('This link is not available: it may have expired or been revoked.');
    if (res.status === 429) throw new Error('Too many requests from this address. Try again in a minute.');
    if (!res.ok) throw new Error('The graph could not be loaded. Try again in a moment.');
    return res.json();
  }).then(function (body) {
    show(body.data);
  }).catch(function (err) {
    document.body.setAttribute('data-state', 'error');
    setStatus(err && err.message ? err.message : 'The graph could not be loaded.');
  });

  function show(data) {
    var nodes = data.nodes.map(function (n) {
      return { id: n.id, type: n.type, label: n.label, weight: n.weight, x: 0, y: 0, vx: 0, vy: 0, out: [], inc: [] };
    });
    var byId = new Map();
    nodes.forEach(function (n) { byId.set(n.id, n); });
    var edges = [];
    data.edges.forEach(function (e) {
      var s = byId.get(e.source), t = byId.get(e.target);
      if (!s || !t) return;
      var edge = { source: s, target: t, type: e.type, weight: e.weight };
      s.out.push(edge);
      t.inc.push(edge);
      edges.push(edge);
    });
    graph = { nodes: nodes, edges: edges, byId: byId };
    nodes.forEach(function (n) { n.r = radius(n); });
    describe(data, nodes);
    layout(nodes, edges);
    draw(nodes, edges);
    fit();
    setStatus(nodes.length > 1 ? '' : 'Nothing to show yet: this campaign has no findings.');
    document.body.setAttribute('data-state', 'ready');
  }

  function describe(data, nodes) {
    var count = { theme: 0, finding: 0, participant: 0 };
    var campaign = null;
    nodes.forEach(function (n) {
      if (n.type in count) count[n.type]++;
      if (n.type === 'campaign') campaign = n;
    });
    if (campaign) {
      document.getElementById('title').textContent = campaign.label;
      document.title = campaign.label + ' \u00b7 Qual';
    }
    var bits = [plural(count.theme, 'theme', 'themes'), plural(count.finding, 'finding', 'findings'),
      plural(count.participant, 'participant', 'participants')];
    if (data.expires_at) {
      var when = new Date(data.expires_at);
      if (!isNaN(when.getTime())) bits.push('link expires ' + when.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' }));
    }
    if (data.truncated) bits.push('the most frequent findings are shown');
    document.getElementById('summary').textContent = bits.join(' \u00b7 ');
  }

  // ---- Layout: deterministic forces ----------------------------------------------------

  function layout(nodes, edges) {
    var hubs = nodes.filter(function (n) { return n.type === 'theme' || n.type === 'finding'; });
    var ring = 130 + 14 * Math.sqrt(hubs.length);
    hubs.forEach(function (n, i) {
      var a = 2 * Math.PI * i / Math.max(1, hubs.length);
      n.x = ring * Math.cos(a);
      n.y = ring * Math.sin(a);
    });
    var placed = new Set(hubs);
    nodes.forEach(function (n) { if (n.type === 'campaign') placed.add(n); });
    ['tag', 'quote', 'participant'].forEach(function (type) {
      nodes.forEach(function (n) {
        if (n.type !== type) return;
        var sx = 0, sy = 0, c = 0;
        n.out.concat(n.inc).forEach(function (e) {
          var other = e.source === n ? e.target : e.source;
          if (placed.has(other)) { sx += other.x; sy += other.y; c++; }
        });
        var h = hash(n.id), a = (h % 3600) / 3600 * 2 * Math.PI, d = 25 + (h >>> 12) % 30;
        if (c === 0) { sx = ring * 1.8 * Math.cos(a); sy = ring * 1.8 * Math.sin(a); c = 1; d = 0; }
        n.x = sx / c + d * Math.cos(a);
        n.y = sy / c + d * Math.sin(a);
        placed.add(n);
      });
    });

    var count = nodes.length;
    var iterations = Math.max(40, Math.min(300, Math.floor(4e7 / (count * count + 1))));
    var cutoff2 = 700 * 700;
    for (var it = 0; it < iterations; it++) {
      var alpha = 1 - it / iterations;
      for (var i = 0; i < count; i++) {
        var a1 = nodes[i];
        for (var j = i + 1; j < count; j++) {
          var b1 = nodes[j];
          var dx = a1.x - b1.x, dy = a1.y - b1.y;
          var d2 = dx * dx + dy * dy;
          if (d2 > cutoff2) continue;
          if (d2 < 0.01) { dx = ((i * 7 + j) % 5) - 2 + 0.5; dy = ((i + j * 3) % 5) - 2 + 0.5; d2 = dx * dx + dy * dy; }
          var min = a1.r + b1.r + 6;
          var f = 1400 / d2 + (d2 < min * min ? 0.4 : 0);
          a1.vx += dx * f; a1.vy += dy * f;
          b1.vx -= dx * f; b1.vy -= dy * f;
        }
      }
      edges.forEach(function (e) {
        var s = e.source, t = e.target;
        var ex = t.x - s.x, ey = t.y - s.y;
        var d = Math.sqrt(ex * ex + ey * ey) || 0.01;
        var rest = LENGTH[e.type] || 100;
        var pull = (d - rest) / d * (STIFFNESS[e.type] || 0.05);
        s.vx += ex * pull; s.vy += ey * pull;
        t.vx -= ex * pull; t.vy -= ey * pull;
      });
      var step = 4 + 36 * alpha;
      nodes.forEach(function (n) {
        if (n.type === 'campaign') { n.x = 0; n.y = 0; n.vx = 0; n.vy = 0; return; }
        n.vx -= n.x * 0.004;
        n.vy -= n.y * 0.004;
        var v = Math.sqrt(n.vx * n.vx + n.vy * n.vy);
        var scale = v > step ? step / v : 1;
        n.x += n.vx * scale;
        n.y += n.vy * scale;
        n.vx *= 0.55;
        n.vy *= 0.55;
      });
    }
  }

  // ---- Drawing -------------------------------------------------------------------------

  function draw(nodes, edges) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    viewport = svgEl('g', { 'class': 'viewport' });
    var edgeLayer = svgEl('g', { 'class': 'edges' });
    nodeLayer = svgEl('g', { 'class': 'nodes' });
    edges.forEach(function (e) {
      e.el = svgEl('line', {
        x1: e.source.x.toFixed(1), y1: e.source.y.toFixed(1), x2: e.target.x.toFixed(1), y2: e.target.y.toFixed(1),
        'class': e.type, 'stroke-width': Math.min(e.type === 'shares_participants' ? 2.5 : 5, 1 + Math.log2(Math.max(1, e.weight))).toFixed(2)
      });
      edgeLayer.appendChild(e.el);
    });
    nodes.forEach(function (n) {
      var g = svgEl('g', {
        'class': 'node ' + n.type, transform: 'translate(' + n.x.toFixed(1) + ' ' + n.y.toFixed(1) + ')',
        'data-id': n.id, 'data-type': n.type, tabindex: n.type === 'quote' ? -1 : 0, role: 'button',
        'aria-label': KINDS[n.type] + ': ' + shorten(n.label, 120)
      });
      if (n.type === 'tag') {
        g.appendChild(svgEl('rect', { x: -n.r, y: -n.r, width: 2 * n.r, height: 2 * n.r, rx: 3 }));
      } else {
        g.appendChild(svgEl('circle', { r: n.r.toFixed(1) }));
      }
      var title = svgEl('title');
      title.textContent = KINDS[n.type] + ': ' + n.label;
      g.appendChild(title);
      if (LABELLED[n.type]) {
        var text = svgEl('text', { x: (n.r + 4).toFixed(1), dy: '0.35em' });
        if (n.type === 'campaign' || n.type === 'theme') text.setAttribute('font-size', '1.1em');
        text.textContent = shorten(n.label, LABELLED[n.type]);
        g.appendChild(text);
      }
      g.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          select(n);
        }
      });
      n.el = g;
      nodeLayer.appendChild(g);
    });
    viewport.appendChild(edgeLayer);
    viewport.appendChild(nodeLayer);
    svg.appendChild(viewport);
    svg.setAttribute('data-node-count', String(nodes.length));
    svg.setAttribute('data-edge-count', String(edges.length));
  }

  // ---- Zoom and pan --------------------------------------------------------------------

  // apply draws the view. Labels keep 11px on screen; zoomed far out, only the campaign's and
  // the themes' stay.
  function apply() {
    if (!viewport) return;
    viewport.setAttribute('transform', 'translate(' + view.tx.toFixed(2) + ' ' + view.ty.toFixed(2) + ') scale(' + view.k.toFixed(4) + ')');
    nodeLayer.setAttribute('font-size', (11 / view.k).toFixed(2));
    svg.classList.toggle('far', view.k < 0.45);
  }

  // reveal pans, when needed, so that the node is in the part of the graph the panel leaves
  // visible (on a phone the panel covers the bottom of it).
  function reveal(n) {
    var s = size();
    var h = s.h;
    if (!panel.hidden && getComputedStyle(panel).position === 'absolute') {
      h = Math.max(80, panel.getBoundingClientRect().top - s.top);
    }
    var x = view.tx + n.x * view.k, y = view.ty + n.y * view.k, m = 30;
    if (x >= m && x <= s.w - m && y >= m && y <= h - m) return;
    view.tx = s.w / 2 - n.x * view.k;
    view.ty = h / 2 - n.y * view.k;
    view.touched = true;
    apply();
  }

  function size() {
    var r = svg.getBoundingClientRect();
    return { w: Math.max(1, r.width), h: Math.max(1, r.height), left: r.left, top: r.top };
  }

  function fit() {
    if (!graph || !graph.nodes.length) return;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    graph.nodes.forEach(function (n) {
      var extra = LABELLED[n.type] ? 90 : 0;
      minX = Math.min(minX, n.x - n.r); maxX = Math.max(maxX, n.x + n.r + extra);
      minY = Math.min(minY, n.y - n.r); maxY = Math.max(maxY, n.y + n.r);
    });
    var s = size();
    var k = Math.min(s.w / (maxX - minX + 40), s.h / (maxY - minY + 40));
    view.k = Math.max(0.05, Math.min(2, k));
    view.tx = s.w / 2 - (minX + maxX) / 2 * view.k;
    view.ty = s.h / 2 - (minY + maxY) / 2 * view.k;
    apply();
  }

  function zoomAt(factor, cx, cy) {
    var k = Math.max(0.05, Math.min(8, view.k * factor));
    view.tx = cx - (cx - view.tx) * (k / view.k);
    view.ty = cy - (cy - view.ty) * (k / view.k);
    view.k = k;
    view.touched = true;
    apply();
  }

  document.getElementById('zoom-in').addEventListener('click', function () { var s = size(); zoomAt(1.3, s.w / 2, s.h / 2); });
  document.getElementById('zoom-out').addEventListener('click', function () { var s = size(); zoomAt(1 / 1.3, s.w / 2, s.h / 2); });
  document.getElementById('zoom-fit').addEventListener('click', function () { view.touched = false; fit(); });

  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var s = size();
    zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - s.left, ev.clientY - s.top);
  }, { passive: false });

  var pointers = new Map();
  var pan = null;
  var pinch = null;
  var dragged = false;

  svg.addEventListener('pointerdown', function (ev) {
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (pointers.size === 1) {
      pan = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty };
      dragged = false;
    } else if (pointers.size === 2) {
      var p = Array.from(pointers.values());
      var s = size();
      var mx = (p[0].x + p[1].x) / 2 - s.left, my = (p[0].y + p[1].y) / 2 - s.top;
      pinch = { d: Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) || 1, k: view.k, wx: (mx - view.tx) / view.k, wy: (my - view.ty) / view.k };
      pan = null;
      dragged = true;
    }
  });

  svg.addEventListener('pointermove', function (ev) {
    if (!pointers.has(ev.pointerId)) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (pinch && pointers.size >= 2) {
      var p = Array.from(pointers.values());
      var s = size();
      var mx = (p[0].x + p[1].x) / 2 - s.left, my = (p[0].y + p[1].y) / 2 - s.top;
      var k = Math.max(0.05, Math.min(8, pinch.k * (Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) || 1) / pinch.d));
      view.k = k;
      view.tx = mx - pinch.wx * k;
      view.ty = my - pinch.wy * k;
      view.touched = true;
      apply();
      return;
    }
    if (!pan || pan.id !== ev.pointerId) return;
    var dx = ev.clientX - pan.x, dy = ev.clientY - pan.y;
    if (!dragged) {
      if (dx * dx + dy * dy < 25) return;
      dragged = true;
      svg.setPointerCapture(ev.pointerId);
      svg.classList.add('panning');
    }
    view.tx = pan.tx + dx;
    view.ty = pan.ty + dy;
    view.touched = true;
    apply();
  });

  function release(ev) {
    pointers.delete(ev.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0) {
      pan = null;
      svg.classList.remove('panning');
    }
  }
  svg.addEventListener('pointerup', release);
  svg.addEventListener('pointercancel', release);

  svg.addEventListener('click', function (ev) {
    if (dragged) {
      dragged = false;
      return;
    }
    var target = ev.target instanceof Element ? ev.target.closest('.node') : null;
    if (target && graph) {
      select(graph.byId.get(target.getAttribute('data-id')));
    } else {
      select(null);
    }
  });

  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') select(null);
  });
  document.getElementById('panel-close').addEventListener('click', function () { select(null); });

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(function () { if (!view.touched) fit(); }).observe(stage);
  } else {
    window.addEventListener('resize', function () { if (!view.touched) fit(); });
  }

  // ---- Selection and the side panel ----------------------------------------------------

  function neighbours(n) {
    return n.out.map(function (e) { return e.target; }).concat(n.inc.map(function (e) { return e.source; }));
  }

  function select(n) {
    if (!graph) return;
    selected = n || null;
    var near = new Set(n ? neighbours(n).concat([n]) : []);
    graph.nodes.forEach(function (m) {
      m.el.classList.toggle('selected', m === n);
      m.el.classList.toggle('dim', !!n && !near.has(m));
    });
    graph.edges.forEach(function (e) {
      var on = !!n && (e.source === n || e.target === n);
      e.el.classList.toggle('hl', on);
      e.el.classList.toggle('dim', !!n && !on);
    });
    if (!n) {
      panel.hidden = true;
      panel.removeAttribute('data-node');
      return;
    }
    fillPanel(n);
    panel.hidden = false;
    panel.setAttribute('data-node', n.id);
    panel.scrollTop = 0;
    reveal(n);
  }

  function linkTo(n, text) {
    var b = html('button', 'link', text === undefined ? n.label : text);
    b.type = 'button';
    b.addEventListener('click', function () {
      select(n);
      if (n.el && typeof n.el.focus === 'function') n.el.focus({ preventScroll: true });
    });
    return b;
  }

  function section(title, items, empty) {
    var frag = document.createDocumentFragment();
    frag.appendChild(html('h3', '', title));
    if (!items.length) {
      frag.appendChild(html('p', 'empty', empty));
      return frag;
    }
    var ul = html('ul');
    items.forEach(function (item) {
      var li = html('li');
      li.appendChild(item);
      ul.appendChild(li);
    });
    frag.appendChild(ul);
    return frag;
  }

  function speaker(quote) {
    var e = quote.out.filter(function (x) { return x.type === 'said_by'; })[0];
    return e ? e.target : null;
  }

  function quoteItem(quote, withSpeaker) {
    var frag = document.createDocumentFragment();
    var q = html('blockquote', 'quote', quote.label);
    q.setAttribute('data-quote', quote.id);
    frag.appendChild(q);
    var who = withSpeaker ? speaker(quote) : null;
    if (who) {
      var cite = html('cite', '', '\u2014 ');
      cite.appendChild(linkTo(who));
      frag.appendChild(cite);
    }
    return frag;
  }

  function byWeight(a, b) { return b.weight - a.weight || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0); }

  function fillPanel(n) {
    panelTitle.textContent = n.label;
    while (panelBody.firstChild) panelBody.removeChild(panelBody.firstChild);
    var out = function (type) { return n.out.filter(function (e) { return e.type === type; }); };
    var inc = function (type) { return n.inc.filter(function (e) { return e.type === type; }); };
    switch (n.type) {
      case 'theme':
      case 'finding': {
        panelKind.textContent = KINDS[n.type] + ' \u00b7 supported by ' + plural(n.weight, 'interview', 'interviews');
        panelBody.appendChild(section('Quotes', out('evidence').map(function (e) { return quoteItem(e.target, true); }), 'No quotes.'));
        var tags = out('tagged').map(function (e) { return e.target; });
        if (tags.length) {
          var chips = section('Tags', tags.map(function (t) { return linkTo(t); }), '');
          chips.querySelector('ul').className = 'chips';
          panelBody.appendChild(chips);
        }
        var related = out('shares_participants').map(function (e) { return { node: e.target, w: e.weight }; })
          .concat(inc('shares_participants').map(function (e) { return { node: e.source, w: e.weight }; }))
          .sort(function (a, b) { return b.w - a.w || byWeight(a.node, b.node); });
        if (related.length) {
          panelBody.appendChild(section('Shares participants with', related.map(function (r) {
            var frag = document.createDocumentFragment();
            frag.appendChild(linkTo(r.node));
            frag.appendChild(document.createTextNode(' (' + plural(r.w, 'participant', 'participants') + ')'));
            return frag;
          }), ''));
        }
        break;
      }
      case 'quote': {
        panelKind.textContent = 'Quote \u00b7 cited by ' + plural(n.weight, 'theme or finding', 'themes and findings');
        panelTitle.textContent = 'Quote';
        panelBody.appendChild(quoteItem(n, true));
        panelBody.appendChild(section('Cited by', inc('evidence').map(function (e) { return linkTo(e.source); }), 'Nothing.'));
        break;
      }
      case 'participant': {
        panelKind.textContent = 'Participant \u00b7 supports ' + plural(n.weight, 'theme or finding', 'themes and findings');
        panelBody.appendChild(section('Quotes', inc('said_by').map(function (e) { return quoteItem(e.source, false); }), 'No quotes.'));
        break;
      }
      case 'tag': {
        panelKind.textContent = 'Tag \u00b7 on ' + plural(n.weight, 'theme or finding', 'themes and findings');
        panelBody.appendChild(section('Tagged', inc('tagged').map(function (e) { return e.source; }).sort(byWeight)
          .map(function (m) { return linkTo(m); }), 'Nothing.'));
        break;
      }
      default: {
        panelKind.textContent = 'Campaign \u00b7 ' + plural(n.weight, 'theme or finding', 'themes and findings');
        var items = out('contains').map(function (e) { return e.target; }).sort(byWeight);
        panelBody.appendChild(section('Themes', items.filter(function (m) { return m.type === 'theme'; })
          .map(function (m) { return linkTo(m); }), 'No themes.'));
        panelBody.appendChild(section('Findings', items.filter(function (m) { return m.type === 'finding'; })
          .map(function (m) { return linkTo(m); }), 'No findings.'));
      }
    }
  }
})();
