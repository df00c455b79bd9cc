"""The report's words in Chinese and English, its style sheet, and the check that its images decoded."""

TEXT = {
    "zh": {"title": "宁夏制造业系统动力学模型：情景比较报告", "version": "模型版本", "date": "生成日期",
           "scenarios": "情景", "charts": "主要指标", "legend": "图例", "matrix": "目标达成情况", "levers": "政策杠杆",
           "target": "目标", "threshold": "目标值", "doc": "文件", "year": "年份", "met": "达成",
           "missed": "未达成",
           "n_a": "无法评估", "summary": "达成目标数", "lever": "杠杆", "description": "说明", "unit": "单位",
           "baseline": "基准值", "unchanged": "—", "from": "起", "exogenous": "外生情景路径",
           "no_levers": "各情景均未改变任何杠杆。", "no_targets": "没有可评估的目标。",
           "read_charts": "各情景的线型见图例（规划情景为宽红线，其余情景为虚线叠在其上），圆点为统计历史值，"
                          "空心三角为规划目标（▲不低于，▼不高于，◆约为），黑色虚线为多年平均目标或年均增长路径；"
                          "其他目标写在图题下方，并标注文件和年份。纵轴不一定从零开始，以显示差别。"
                          "灰色阴影为第一个情景在各世界状态下的5–95 %区间（数据见 bands.csv）。",
           "read_matrix": "每格为 达成与否 及 余量（模拟值与目标值之差，正值表示优于目标，单位同目标），"
                          "以及达成概率（各世界状态中达成的比例）；2023年后的目标中已有统计的年份按统计数据计算"
                          "（标“据统计”）；“由假设决定”表示其不确定性一半以上来自未经数据拟合的假设参数。",
           "meta_states": "达成概率的依据", "p_met": "达成概率", "recorded": "据统计",
           "read_levers": "表中只列出至少一个情景改变了的杠杆；“—”表示该情景保持基准值。",
           "meta_baseline": "基准参数", "meta_files": "情景文件",
           "actual": "实际（数据）", "right": "模型判断正确",
           "read_actual": "“实际”列为统计数据给出的结果（目标年份不晚于数据最后一年2023年时）：按目标本身的口径计算；"
                          "所需年份缺数据时为“无法判断”，数据口径与目标不同时说明原因而不作比较。",
           "reach": "目标可达性", "best_value": "可达最优值",
           "best": "最高达成概率", "cheapest": "达到该概率的最低成本组合",
           "cost": "预期成本（亿元）", "flag": "判断", "p_baseline": "基准情景", "p_plan": "规划方案",
           "flags": {"unreachable": "无法达成", "met in every case": "各种情况下均达成",
                     "decided by history": "已由历史决定", "lever-dependent": "取决于政策杠杆",
                     "not lever-dependent": "不受政策杠杆影响", "not in the study": "不在本次研究内"},
           "read_reach": "在杠杆取值范围内评估过的政策组合中，各目标的最高达成概率（不同参数与外部情景下的达成比例）、"
                         "达到该概率的最低成本组合，以及基准与规划方案的达成概率。"},
    "en": {"title": "Ningxia manufacturing system-dynamics model: scenario comparison",
           "version": "Model version", "date": "Date", "scenarios": "Scenarios", "legend": "Legend",
           "charts": "Headline indicators", "matrix": "Target attainment", "levers": "Policy levers",
           "target": "Target", "threshold": "Threshold", "doc": "Doc",
           "year": "Year", "met": "met", "missed": "missed", "n_a": "not assessed", "summary": "Targets met",
           "lever": "Lever", "description": "Description", "unit": "Unit", "baseline": "Baseline",
           "unchanged": "—", "from": "from", "exogenous": "exogenous outlook path",
           "no_levers": "No scenario changes any lever.", "no_targets": "No targets to assess.",
           "read_charts": "Line styles as in the legend (the plan broad and red, other scenarios dashed on top of "
                          "it), dots the recorded history, hollow triangles the plans' targets (▲ at least, "
                          "▼ at most, ◆ about), black dashes a target's mean over years or its growth path; other "
                          "targets are written under the chart's title, with document and year. Y-axes need not "
                          "start at zero, so that differences show. Grey shading is the first scenario's 5–95 % "
                          "range over the states of the world (the data are in bands.csv).",
           "read_matrix": "Each cell: met or missed, the margin (model minus target, positive = better "
                          "than the target, in the target's unit) and P(met), the share of the states of the world "
                          "that meet it. Targets after 2023 read their observed years from the record ('recorded'); "
                          "'decided by assumptions': unfitted assumed constants carry over half its variance.",
           "meta_states": "Odds over", "p_met": "P(met)", "recorded": "recorded",
           "read_levers": "Only levers that at least one scenario changes are listed; '—' keeps the "
                          "baseline.",
           "meta_baseline": "Baseline parameters", "meta_files": "Scenario files",
           "actual": "Actual (data)", "right": "Model right",
           "read_actual": "The Actual column is what the data recorded, for targets up to the last data year "
                          "(2023), read with the target's own measure; where a year it needs is missing it is "
                          "not determinable, and where the data hold another statistic the reason is given "
                          "instead of a comparison.",
           "reach": "Reachability of the targets", "best_value": "Best value reached",
           "best": "Best P(met)", "cheapest": "Cheapest package reaching it",
           "cost": "Expected cost (100m yuan)", "flag": "Flag", "p_baseline": "Baseline", "p_plan": "Plan",
           "flags": {},
           "read_reach": "For each target: the best odds of meeting it (share of states of the world) that any "
                         "package evaluated within the lever ranges reaches, the cheapest package reaching them, "
                         "and the odds of the baseline and the plan."},
}

CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "SimHei",
       sans-serif; margin: 1.5em auto; max-width: 1500px; padding: 0 1em; color: #222; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ccc; margin-top: 1.6em; break-after: avoid; }
.meta { color: #555; } .meta td { padding: 0 1em 0 0; vertical-align: top; }
.note { color: #555; font-size: .9em; } .assumed { color: #8a4b00; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
figure { margin: 0; break-inside: avoid; } figure img { width: 100%; height: auto; }
img.legend { display: block; max-width: 100%; margin: .3em auto; position: sticky; top: 0; background: white;
             z-index: 2; }
table.grid { border-collapse: collapse; font-size: 12px; }
table.grid th, table.grid td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
table.grid th { background: #f0f0f0; position: sticky; top: 0; }
table.grid td.label { min-width: 16em; max-width: 28em; } td.num { text-align: right; white-space: nowrap; }
td.path { min-width: 6em; max-width: 14em; text-align: right; }
td.met { background: #d7efd9; color: #1a5e20; white-space: nowrap; text-align: right; }
td.missed { background: #f7d4d4; color: #8a1c1c; white-space: nowrap; text-align: right; }
td.na { background: #eeeeee; color: #777; text-align: center; }
td.actual { min-width: 7em; max-width: 16em; font-size: 11px; }
td.actual.met { text-align: left; white-space: normal; } td.actual.missed { text-align: left; white-space: normal; }
p.summary { font-weight: bold; }
.scroll { overflow-x: auto; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { max-width: none; font-size: 11px; } .charts { grid-template-columns: 1fr 1fr; }
  table.grid { font-size: 9px; } table.grid th { position: static; } .scroll { overflow: visible; } }
"""

# Lets a browser test (or a reader's devtools) see that every image decoded.
IMAGE_CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute("data-images", images.length);
  document.body.setAttribute("data-images-broken", broken.length);
});
</script>"""
