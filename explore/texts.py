"""The explorer's words in Chinese and English (levers and outlooks: scenarios/texts/levers.yaml)."""

TEXT = {
    "zh": {
        "title": "宁夏制造业情景探索", "subtitle": "移动政策杠杆，即时查看指标、不确定性区间与规划目标的达成情况",
        "levers": "政策杠杆", "start": "杠杆起始年份",
        "start_help": "杠杆从该年起生效（默认2024年，数据之后的第一年）；此前保持基准值。",
        "outlooks": "外部环境展望", "outlook_help": "逐年设定（其余年份线性插值）；改动后替换模型默认展望。",
        "baseline": "基准", "plan": "规划", "range": "允许范围",
        "refused": "已拒绝：{value} 超出允许范围 [{low}, {high}]",
        "not_number": "请输入 [{low}, {high}] 之间的数字", "reset": "恢复默认",
        "indicators": "加选指标", "charts": "指标", "verdicts": "规划目标判断",
        "scenario": "当前情景", "saved": "已保存情景（最多4个，叠加显示）",
        "name": "情景名称（小写字母、数字、下划线）", "save": "保存为YAML", "load": "载入情景",
        "upload": "上传情景YAML",
        "report": "下载报告（HTML）", "report_busy": "正在生成报告（约半分钟）…", "report_done": "报告已生成：{name}",
        "saved_as": "已保存 {name}.yaml，可用 nxmfg simulate 运行", "loaded": "已载入 {name}",
        "bad_name": "名称须为小写字母开头，仅含小写字母、数字和下划线",
        "band": "各世界状态的5–95 %区间", "history": "历史数据", "target": "目标", "last_data": "数据截至",
        "current": "当前情景", "baseline_line": "基准情景（无新政策）",
        "target_marks": "不低于、不高于、约为；标注文件与年份",
        "doc": "文件", "year": "年份", "threshold": "目标值", "value": "情景值",
        "margin": "余量", "probability": "达成概率", "verdict": "模型判断", "actual": "实际（数据）",
        "met": "达成", "missed": "未达成", "n_a": "无法评估",
        "read_verdicts": "余量为情景值与目标值之差（正值表示优于目标）；{states}，即其中达成目标的比例；"
                        "2023年后的目标中已有统计的年份按统计数据计算（据统计）；“由假设决定”：未经数据拟合的假设参数"
                        "占其不确定性的一半以上；“实际”为统计数据给出的结果（目标年份不晚于2023年时）。",
        "recorded": "据统计",
        "right": "当前情景对已判断的过去目标判断正确 {right} / {judged} 项。",
        "error": "无法计算：{error}",
        "dropdown": {"select_all": "全选", "deselect_all": "全不选", "selected_count": "已选{num_selected}项",
                     "search": "搜索", "clear_search": "清除搜索", "clear_selection": "清除选择",
                     "no_options_found": "没有匹配的选项"},
    },
    "en": {
        "title": "Ningxia manufacturing: scenario explorer",
        "subtitle": "Move the policy levers and see the indicators, their band and the plans' targets at once",
        "levers": "Policy levers", "start": "Levers act from", "start_help": "Levers act from this year on "
        "(default 2024, the first year after the data); before it they keep the baseline value.",
        "outlooks": "Outlooks", "outlook_help": "Set year by year (linear in between); a change replaces the "
        "model's default outlook.",
        "baseline": "baseline", "plan": "plan", "range": "Allowed range", "refused": "refused: {value} is outside "
        "the allowed range [{low}, {high}]", "not_number": "enter a number in [{low}, {high}]", "reset": "default",
        "indicators": "More indicators", "charts": "Indicators", "verdicts": "The plans' targets",
        "scenario": "Current scenario", "saved": "Saved scenarios (up to four, overlaid)",
        "name": "Scenario name (lower-case letters, digits, underscores)", "save": "Save as YAML",
        "load": "Load a scenario", "upload": "Upload a scenario YAML", "report": "Download report (HTML)",
        "report_busy": "Writing the report (about half a minute)…", "report_done": "Report written: {name}",
        "saved_as": "Saved {name}.yaml; run it with nxmfg simulate", "loaded": "Loaded {name}",
        "bad_name": "A name starts with a lower-case letter and holds lower-case letters, digits and underscores",
        "band": "5–95 % over the states of the world", "history": "history", "target": "target", "last_data": "data to",
        "current": "current scenario", "baseline_line": "baseline (no new policy)",
        "target_marks": "at least, at most, about; labelled with document and year",
        "doc": "Doc", "year": "Year", "threshold": "Threshold", "value": "Value",
        "margin": "Margin", "probability": "P(met)", "verdict": "Model", "actual": "Actual (data)",
        "met": "met", "missed": "missed", "n_a": "not assessed",
        "read_verdicts": "Margin: the scenario's value minus the threshold (positive = better than the target); "
                        "{states}: the share of them that meet it. Targets after 2023 read their observed years "
                        "from the record ('recorded'); 'decided by assumptions': unfitted assumed constants carry "
                        "over half its variance. Actual: what the data recorded, for targets up to 2023.",
        "recorded": "recorded",
        "right": "The current scenario calls {right} of the {judged} past targets the data judge right.",
        "error": "cannot compute: {error}",
        "dropdown": {"select_all": "Select all", "deselect_all": "Deselect all",
                     "selected_count": "{num_selected} selected",
                     "search": "Search", "clear_search": "Clear search", "clear_selection": "Clear selection",
                     "no_options_found": "No options found"},
    },
}
