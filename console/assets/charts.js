// Lab trend charts: each chart draws the data table beside it (the rows'
// data-t, seconds, and data-v, the value in the analyte's unit), so the
// table is the chart's accessible equivalent and the only copy of the data.
(function () {
  "use strict";
  function draw(box) {
    var table = document.getElementById(box.dataset.chart);
    if (!table || !window.uPlot) return;
    var xs = [], ys = [];
    table.querySelectorAll("tbody tr[data-t]").forEach(function (tr) {
      xs.push(Number(tr.dataset.t));
      ys.push(Number(tr.dataset.v));
    });
    if (xs.length === 0) { box.hidden = true; return; }
    var width = function () { return Math.max(240, box.clientWidth || 300); };
    var plot = new window.uPlot({
      width: width(),
      height: 200,
      legend: { show: false },
      series: [{}, { label: table.dataset.name + " (" + table.dataset.unit + ")", stroke: "#1565c0", width: 2, points: { size: 6 } }],
      axes: [{}, { label: table.dataset.unit }]
    }, [xs, ys], box);
    var pending = 0;
    window.addEventListener("resize", function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () { plot.setSize({ width: width(), height: 200 }); });
    });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
