// Charts drawn from the data table beside each, so the table is the
// chart's accessible equivalent and the only copy of the data. The rows'
// data-t is the x (seconds). A lab trend has one series, the rows'
// data-v in the analyte's unit; a table whose header cells carry
// data-stroke (the sync log's events per day) has one series per such
// column, its cells' numbers.
(function () {
  "use strict";
  function draw(box) {
    var table = document.getElementById(box.dataset.chart);
    if (!table || !window.uPlot) return;
    var rows = table.querySelectorAll("tbody tr[data-t]");
    if (rows.length === 0) { box.hidden = true; return; }
    var xs = [], data = [xs], series = [{}], axes = [{}];
    rows.forEach(function (tr) { xs.push(Number(tr.dataset.t)); });
    var columns = table.querySelectorAll("thead th[data-stroke]");
    if (columns.length === 0) {
      data.push(Array.prototype.map.call(rows, function (tr) { return Number(tr.dataset.v); }));
      series.push({ label: table.dataset.name + " (" + table.dataset.unit + ")", stroke: "#1565c0", width: 2, points: { size: 6 } });
      axes.push({ label: table.dataset.unit });
    } else {
      columns.forEach(function (th) {
        data.push(Array.prototype.map.call(rows, function (tr) { return Number(tr.cells[th.cellIndex].textContent); }));
        var dash = th.dataset.dash ? th.dataset.dash.split(" ").map(Number) : undefined;
        series.push({ label: th.textContent, stroke: th.dataset.stroke, dash: dash, width: 2, points: { size: 5 } });
      });
      axes.push({ label: "events" });
    }
    var width = function () { return Math.max(240, box.clientWidth || 300); };
    var plot = new window.uPlot({ width: width(), height: 200, legend: { show: columns.length > 0 }, series: series, axes: axes }, data, box);
    var pending = 0;
    window.addEventListener("resize", function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () { plot.setSize({ width: width(), height: 200 }); });
    });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
