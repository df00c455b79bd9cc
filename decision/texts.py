"""The decision page's words in Chinese and English; {placeholders} are filled from the tool's results."""

FLAGS = ("reachable", "lever-dependent", "not moved by levers", "decided by assumptions", "out of reach",
         "not studied")

TEXT = {
    "zh": {
        "title": "{doc}文件目标决策页：能否达成、靠什么措施、花多少钱、有多大把握",
        "intro": "下表逐项列出{doc}文件（{year}年）的量化目标，以及其他尚未到期的目标：到{last}年的统计实绩、"
                 "基准情景与规划情景的模拟值和达成概率、能以不低于{odds}的把握达成该目标的最低成本政策组合及其成本，"
                 "以及判断和理由。",
        "target": "目标（文件条款）", "record": "实绩（至{last}年）", "value": "模拟值", "odds": "达成概率",
        "package": "最低成本可达组合", "cost": "{window}年新增财政投入（亿元）", "per_target": "每项达成目标的成本（亿元；节省时不计）",
        "flag": "判断", "reason": "理由", "no_record": "无统计数据", "met": "达成", "missed": "未达成",
        "odds_basis": "达成概率：{basis}。",
        "flags": {"reachable": "可达成", "lever-dependent": "取决于政策力度", "not moved by levers": "不受政策杠杆影响",
                  "decided by assumptions": "取决于模型假设", "out of reach": "无法达成", "not studied": "未作组合研究"},
        "reasons": {
            "already": "基准情景已有{p}的把握达成。",
            "reachable": "{package}能以{p}的把握达成（至少需{odds}），{window}年新增财政投入{cost}亿元。",
            "lever-dependent": "政策组合最多把达成概率从{base}提高到{best}，达不到{odds}。",
            "not moved by levers": "各政策组合的达成概率都在{best}左右，政策杠杆几乎不起作用。",
            "out of reach": "评估过的政策组合在任何情况下都未能达成；最好的组合在中心情景下为{value}，目标为{threshold}。",
            "assumptions": "未经数据拟合的假设常数至少解释了该判断{share}的方差（杠杆敏感性研究），"
                           "上面的数字更多反映假设而非数据。",
            "not studied": "当前模型和校准尚无政策组合研究（见本节说明）。",
            "flagged": "达成概率的分组敏感性分析表明，该判断一半以上的方差来自假设常数。",
        },
        "stale": "已有的政策组合研究基于模型版本 {theirs}，而当前模型版本为 {ours}（或校准不同）：其组合与成本未列入本页，需重新运行该研究。",
        "how": "政策组合研究由下面的命令得到：",
        "summary": "{doc}文件{n}项目标中，基准情景以不低于{odds}的把握达成{base}项，规划情景达成{plan}项。",
        "summary_study": "在评估过的{evaluated}个政策组合中，{headline}能以不低于{odds}的把握达成{robust}项，"
                         "{window}年预期新增财政投入{cost}亿元，年均{yearly}亿元，约为{year}年一般公共预算支出的{share}。",
        "budget": "财政投入与全区预算对比",
        "budget_intro": "每个组合的年均新增财政投入（{basis}），与{year}年全区一般公共预算支出（{general}亿元）和"
                        "财政科学技术支出（{science}亿元）相比。数据来源：",
        "sticks": {"general": "一般公共预算支出（国家统计局分省年度数据）", "science": "财政科学技术支出（国家统计局分省年度数据）"},
        "basis_expected": "{states}个世界状态下的期望值，相对于同一状态下的基准情景",
        "basis_central": "中心情景，相对于基准情景",
        "package_col": "组合", "total": "{window}年合计（亿元）", "yearly": "年均（亿元）",
        "share_general": "占一般公共预算支出", "ratio_science": "相当于财政科技支出", "robust": "以≥{odds}把握达成的目标数",
        "bounds": "达到搜索上限的杠杆", "dropped": "降到搜索下限的项目", "times": "{x}倍", "saving": "（负值：比基准节省）",
        "chart": "成本与目标达成数的权衡（每点一个评估过的组合）",
        "plan": "规划情景", "baseline": "基准情景",
    },
    "en": {
        "title": "Document {doc}'s targets: can we meet them, with which measures, at what cost, how sure",
        "intro": "Each quantitative target of document {doc} ({year}), and the other targets still ahead: the record "
                 "to {last}, the baseline's and the plan's values and odds, the cheapest package of levers meeting "
                 "the target with at least {odds} odds and its cost, and a verdict with its reason.",
        "target": "Target (clause)", "record": "Record (to {last})", "value": "Value", "odds": "P(met)",
        "package": "Cheapest package reaching it", "cost": "Added fiscal cost {window} (100m yuan)",
        "per_target": "Cost per target met (100m yuan; none where it saves)", "flag": "Verdict", "reason": "Reason",
        "no_record": "no data", "met": "met", "missed": "missed", "odds_basis": "P(met): {basis}.",
        "flags": {name: name for name in FLAGS},
        "reasons": {
            "already": "The baseline already meets it with {p} odds.",
            "reachable": "{package} meets it with {p} odds (at least {odds} needed) at an added fiscal cost of "
                         "{cost} (100m yuan) in {window}.",
            "lever-dependent": "Packages raise the odds from {base} to at most {best}, short of {odds}.",
            "not moved by levers": "Every package gives about {best}: the levers hardly move it.",
            "out of reach": "No package evaluated meets it in any state; the best one reaches {value} in the central "
                            "state against {threshold}.",
            "assumptions": "Assumed constants, which no data fit, explain at least {share} of its variance "
                           "(sensitivity study {study}): the numbers above reflect assumptions more than data.",
            "not studied": "No package study on this model and fit (see this section's note).",
            "flagged": "The odds' grouped sensitivity study finds more than half of its variance from assumed "
                       "constants.",
        },
        "stale": "The package study {study} was made on model version {theirs}, the model is now {ours} (or the fit "
                 "differs): its packages and costs are left out until the study is rerun.",
        "how": "The package study comes from:",
        "summary": "Of document {doc}'s {n} targets, the baseline meets {base} with at least {odds} odds and the plan "
                   "{plan}.",
        "summary_study": "Of the {evaluated} packages evaluated, {headline} meets {robust} with at least {odds} "
                         "odds at an expected added fiscal cost of {cost} (100m yuan) in {window}, {yearly} a year, "
                         "about {share} "
                         "of the region's general public budget expenditure in {year}.",
        "budget": "Fiscal cost against the region's budget",
        "budget_intro": "Each package's added fiscal cost per year ({basis}) against the region's general public "
                        "budget expenditure ({general}, 100m yuan) and S&T budget ({science}) in {year}. Data:",
        "sticks": {"general": "general public budget expenditure (NBS provincial data)",
                   "science": "fiscal S&T expenditure (NBS provincial data)"},
        "basis_expected": "expected over {states} states of the world, against the baseline in the same state",
        "basis_central": "central state, against the baseline",
        "package_col": "Package", "total": "Total {window} (100m yuan)", "yearly": "Per year (100m yuan)",
        "share_general": "Share of general budget", "ratio_science": "Against the S&T budget",
        "robust": "Targets met with >= {odds} odds", "bounds": "Levers at the top of their range",
        "dropped": "Programmes at the bottom of their range", "times": "{x} times",
        "saving": " (negative: saves against the baseline)",
        "chart": "Cost against targets met (each dot a package evaluated)",
        "plan": "plan", "baseline": "baseline",
    },
}
