"""Indicators of the plans and the statistical yearbooks, computed from model runs.

Each indicator is written once, as a small function of a run (an xr.Dataset of model variables with
dimension `year`, and optionally `run`), in the unit the statistics use. Calibration compares them with
history, the targets table with the plans, the Sobol study takes them at a year, and the charts draw them.
Names match the `indicator` column of the calibration data where the data have the indicator. Unit
conversions and proxies are stated here and only here.

Timing convention: `Time = Y` stands for statistical year Y; flows are read at that instant, which stands
for the year as a whole (its middle). A stock the statistics count at the year's end (certified high-tech
enterprises, valid patents) is read half a year on: the stock plus half a year of its net flow.
"""

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
import xarray as xr

from nxmfg.model import bare_arrays as arrays


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    zh: str
    en: str
    func: Callable[[xr.Dataset], xr.DataArray]

    @property
    def description(self) -> str:
        return (self.func.__doc__ or "").strip()


INDICATORS: dict[str, Indicator] = {}
# Yearly rates (growth, change, percentage points): each compares a year with the one before, so none has a
# value in the model's first year, 2010.
RATE_SUFFIXES = ("_growth_pct", "_change_pct", "_pp")
# Expected numbers of rare firms (the Pareto tail): only these are read as a Poisson count by targets
# (measure probability_at_least).
POISSON_COUNTS = ("firms_revenue_over_10bn_count", "firms_revenue_over_50bn_count")


def indicator(unit: str, zh: str, en: str):
    """Register an indicator under its function's name."""
    def register(func):
        INDICATORS[func.__name__] = Indicator(func.__name__, unit, zh, en, func)
        return func
    return register


def at_year_end(stock: xr.DataArray, net_flow: xr.DataArray) -> xr.DataArray:
    """A stock as counted at the end of the statistical year that `Time = Y` stands for: half a year on."""
    return stock + 0.5 * net_flow


def growth_pct(x: xr.DataArray) -> xr.DataArray:
    """Year-on-year growth in per cent (NaN in the first year)."""
    return 100 * (x / x.shift(year=1) - 1)


def _above_scale_manufacturing_nominal(run):
    return run["manufacturing_va_nominal"] * run["above_scale_share_of_manufacturing_va"]


def _above_scale_industry_nominal(run):
    """Mining and utility firms are all above scale (large plants)."""
    return _above_scale_manufacturing_nominal(run) + run["mining_utilities_va_nominal"]


def _above_scale_industry_real(run):
    return run["manufacturing_va_real"] * run["above_scale_share_of_manufacturing_va"] + run["mining_utilities_va_real"]


# Output ---------------------------------------------------------------------------------------------

@indicator("亿元", "地区生产总值", "GDP")
def gdp_100m_yuan(run):
    """Nominal GDP (the NBS series revised after the 5th census is the calibration vintage)."""
    return run["gdp_nominal"]


@indicator("%", "地区生产总值增速", "Real GDP growth")
def gdp_real_growth_pct(run):
    """Real GDP growth."""
    return growth_pct(run["gdp_real"])


@indicator("亿元", "工业增加值", "Industrial value added")
def industry_va_100m_yuan(run):
    """Nominal value added of all industry (mining, manufacturing, utilities)."""
    return run["industry_va_nominal"]


@indicator("%", "工业增加值增速", "Industrial value-added growth")
def industry_va_growth_pct(run):
    """Real growth of industrial value added."""
    return growth_pct(run["industry_va_real"])


@indicator("%", "规模以上工业增加值增速", "Above-scale industrial VA growth")
def above_scale_industry_va_growth_pct(run):
    """Real growth of above-scale industry: above-scale manufacturing plus mining and utilities (all above scale)."""
    return growth_pct(_above_scale_industry_real(run))


@indicator("亿元", "规模以上工业增加值", "Above-scale industrial value added")
def above_scale_industry_va_100m_yuan(run):
    """Nominal value added of above-scale industry (D: 2800 亿元 by 2027)."""
    return _above_scale_industry_nominal(run)


@indicator("百分点", "规上工业增速减GDP增速", "Above-scale industry minus GDP growth")
def above_scale_industry_minus_gdp_growth_pp(run):
    """Real growth of above-scale industry less real GDP growth (D: 增速高于全区GDP增速1个百分点)."""
    return growth_pct(_above_scale_industry_real(run)) - growth_pct(run["gdp_real"])


@indicator("亿元", "制造业增加值", "Manufacturing value added")
def manufacturing_va_100m_yuan(run):
    """Nominal manufacturing value added."""
    return run["manufacturing_va_nominal"]


@indicator("亿元", "规模以上制造业增加值", "Above-scale manufacturing VA")
def above_scale_manufacturing_va_100m_yuan(run):
    """Nominal manufacturing value added of above-scale firms (their share follows the firm population)."""
    return run["manufacturing_va_nominal"] * run["above_scale_share_of_manufacturing_va"]


@indicator("%", "制造业增加值增速", "Manufacturing VA growth")
def manufacturing_va_growth_pct(run):
    """Real growth of manufacturing value added."""
    return growth_pct(run["manufacturing_va_real"])


@indicator("%", "规模以上制造业增加值增速", "Above-scale manufacturing VA growth")
def above_scale_manufacturing_va_growth_pct(run):
    """Real growth of above-scale manufacturing value added."""
    return growth_pct(run["manufacturing_va_real"] * run["above_scale_share_of_manufacturing_va"])


@indicator("百分点", "制造业增速减工业增速", "Manufacturing minus industry growth")
def manufacturing_minus_industry_growth_pp(run):
    """Real manufacturing growth less real industrial growth (A: 制造业增速高于全区工业)."""
    return growth_pct(run["manufacturing_va_real"]) - growth_pct(run["industry_va_real"])


@indicator("%", "规上制造业占规上工业增加值比重", "Manufacturing share of above-scale industry")
def manufacturing_share_of_above_scale_industry_pct(run):
    """Above-scale manufacturing over above-scale industry, nominal (mining and utility firms are all above scale)."""
    return 100 * _above_scale_manufacturing_nominal(run) / _above_scale_industry_nominal(run)


@indicator("%", "制造业占GDP比重", "Manufacturing share of GDP")
def manufacturing_share_of_gdp_pct(run):
    """Manufacturing value added over GDP (nominal)."""
    return 100 * run["manufacturing_va_nominal"] / run["gdp_nominal"]


@indicator("%", "制造业增加值率", "Manufacturing value-added rate")
def manufacturing_va_rate_pct(run):
    """Value added over gross output of manufacturing."""
    return 100 * run["manufacturing_va_rate"]


@indicator("万元/人", "制造业全员劳动生产率", "Manufacturing labour productivity")
def manufacturing_labour_productivity_10k_yuan_per_worker(run):
    """Real value added per worker, 2010 prices."""
    return run["labour_productivity"]


@indicator("%", "规上工业企业利润增速", "Above-scale industrial profit growth")
def above_scale_industry_profit_growth_pct(run):
    """Proxy: nominal growth of manufacturing profit (mining and utilities profit is not modelled)."""
    return growth_pct(run["manufacturing_profit"])


@indicator("%", "规上制造业利润增速", "Above-scale manufacturing profit growth")
def above_scale_manufacturing_profit_growth_pct(run):
    """Nominal growth of manufacturing profit."""
    return growth_pct(run["manufacturing_profit"])


# Structure --------------------------------------------------------------------------------------------

@indicator("%", "战略性新兴产业增加值占GDP比重", "Strategic emerging industries, share of GDP")
def strategic_emerging_share_of_gdp_pct(run):
    """Proxy: emerging manufacturing value added over GDP (emerging services are not modelled)."""
    return 100 * run["manufacturing_va_nominal"] * run["emerging_share"] / run["gdp_nominal"]


@indicator("%", "战略性新兴产业占规上工业比重", "Strategic emerging share of above-scale industry")
def strategic_emerging_share_of_above_scale_industry_pct(run):
    """Emerging manufacturing (all above scale: its firms are) over above-scale industrial value added, nominal."""
    return 100 * run["manufacturing_va_nominal"] * run["emerging_share"] / _above_scale_industry_nominal(run)


@indicator("%", "高技术制造业占规上工业比重", "High-tech manufacturing share of above-scale industry")
def high_tech_mfg_share_of_above_scale_industry_pct(run):
    """High-tech manufacturing (a stated share of the emerging industries) over above-scale industry, nominal."""
    return (100 * run["manufacturing_va_nominal"] * run["emerging_share"] * run["high_tech_share_of_emerging"]
            / _above_scale_industry_nominal(run))


@indicator("亿元", "高技术产业营业收入", "High-tech industry revenue")
def high_tech_industry_revenue_100m_yuan(run):
    """Revenue of high-tech manufacturing (高技术产业, all above scale), nominal: its stated share of the
    emerging industries' share of manufacturing revenue."""
    return run["manufacturing_revenue"] * run["emerging_share"] * run["high_tech_share_of_emerging"]


@indicator("%", "高技术制造业增加值增速", "High-tech manufacturing VA growth")
def high_tech_mfg_va_growth_pct(run):
    """Real growth of high-tech manufacturing (a fixed share of the emerging industries, so their growth)."""
    return growth_pct(run["manufacturing_va_real"] * run["emerging_share"])


@indicator("%", "战略性新兴产业增加值增速", "Strategic emerging VA growth")
def strategic_emerging_va_growth_pct(run):
    """Real growth of emerging manufacturing value added."""
    return growth_pct(run["manufacturing_va_real"] * run["emerging_share"])


# Firms ------------------------------------------------------------------------------------------------

@indicator("家", "规模以上工业企业数", "Above-scale industrial firms")
def above_scale_firms_count(run):
    """All above-scale industrial firms (revenue >= 20 million yuan) in the statistics, the firms the 小升规
    programme reclassified included."""
    return run["above_scale_firms_reported"]


@indicator("家/年", "新增上规企业", "New above-scale firms per year")
def new_above_scale_firms_count(run):
    """Gross additions to the above-scale statistics: 小升规 upgrades, reclassified firms and new plants."""
    return run["new_above_scale_firms_reported"]


@indicator("家", "百亿级企业(期望数)", "Firms with revenue >= 100亿 (expected number)")
def firms_revenue_over_10bn_count(run):
    """Expected number of firms with revenue of at least 100 亿元 (Pareto tail of the large firms); targets on it
    read the Poisson probability of at least the target's number."""
    return run["expected_firms_over_10bn"]


@indicator("家", "五百亿级企业(期望数)", "Firms with revenue >= 500亿 (expected number)")
def firms_revenue_over_50bn_count(run):
    """Expected number of firms with revenue of at least 500 亿元 (read as a Poisson probability by targets)."""
    return run["expected_firms_over_50bn"]


# Investment -------------------------------------------------------------------------------------------

@indicator("亿元", "制造业投资", "Manufacturing investment")
def manufacturing_investment_100m_yuan(run):
    """Nominal manufacturing fixed-asset investment."""
    return run["manufacturing_investment_nominal"]


@indicator("%", "工业投资增速", "Industrial investment growth")
def industrial_investment_growth_pct(run):
    """Nominal growth of industrial investment."""
    return growth_pct(run["industrial_investment_nominal"])


@indicator("%", "制造业投资增速", "Manufacturing investment growth")
def manufacturing_investment_growth_pct(run):
    """Nominal growth of manufacturing investment."""
    return growth_pct(run["manufacturing_investment_nominal"])


@indicator("亿元", "工业技术改造投资", "Technical-upgrade investment")
def tech_upgrade_investment_100m_yuan(run):
    """Nominal technical-upgrade (技改) investment."""
    return run["tech_upgrade_investment_nominal"]


@indicator("%", "技术改造投资增速", "Technical-upgrade investment growth")
def tech_upgrade_investment_growth_pct(run):
    """Nominal growth of technical-upgrade investment."""
    return growth_pct(run["tech_upgrade_investment_nominal"])


@indicator("%", "技改投资占工业投资比重", "Technical-upgrade share of industrial investment")
def tech_upgrade_investment_share_of_industrial_investment_pct(run):
    """Technical-upgrade over industrial investment (C's definition; see targets.yaml for B's 65 %)."""
    return 100 * run["tech_upgrade_investment_nominal"] / run["industrial_investment_nominal"]


@indicator("%", "民间投资占制造业投资比重", "Private share of manufacturing investment")
def private_share_of_manufacturing_investment_pct(run):
    """Private firms' share of manufacturing investment."""
    return 100 * run["private_share_of_manufacturing_investment"]


# Innovation -------------------------------------------------------------------------------------------

@indicator("亿元", "R&D经费支出", "R&D expenditure")
def rd_expenditure_100m_yuan(run):
    """Whole-economy R&D expenditure, nominal."""
    return run["rd_expenditure_nominal"]


@indicator("%", "R&D经费增速", "R&D expenditure growth")
def rd_expenditure_growth_pct(run):
    """Nominal growth of whole-economy R&D expenditure (D: 年均增长10%以上)."""
    return growth_pct(run["rd_expenditure_nominal"])


@indicator("亿元", "规上工业企业R&D经费", "Above-scale industrial R&D expenditure")
def above_scale_industry_rd_expenditure_100m_yuan(run):
    """R&D expenditure of above-scale industrial firms, nominal."""
    return run["enterprise_rd_nominal"]


@indicator("%", "企业R&D经费占全社会比重", "Enterprise share of R&D expenditure")
def enterprise_share_of_rd_expenditure_pct(run):
    """R&D of above-scale industry and of tech SMEs over all R&D (the model's public part also holds some
    service firms' R&D, so this is a lower bound of the statistic)."""
    firms = run["enterprise_rd_nominal"] + run["tech_smes"] * run["rd_per_tech_sme"]
    return 100 * firms / run["rd_expenditure_nominal"]


@indicator("%", "R&D经费投入强度", "R&D intensity (of GDP)")
def rd_intensity_pct(run):
    """R&D expenditure over GDP."""
    return 100 * run["rd_expenditure_nominal"] / run["gdp_nominal"]


@indicator("%", "规上工业企业研发投入强度", "Above-scale industry R&D intensity (of revenue)")
def above_scale_industry_rd_intensity_pct(run):
    """R&D of above-scale industrial firms over their operating revenue."""
    return 100 * run["above_scale_rd_share_of_revenue"]


@indicator("家", "有研发活动的规上工业企业数", "Above-scale firms with R&D activity")
def firms_with_rd_activity_count(run):
    """Above-scale industrial firms with R&D activity."""
    return run["rd_active_firms"]


@indicator("%", "有研发活动企业占比", "Share of above-scale firms with R&D")
def firms_with_rd_activity_share_pct(run):
    """Share of above-scale industrial firms with R&D activity, over the firms in the statistics (the
    firms the 小升规 programme reclassified do none)."""
    return 100 * run["rd_active_share"] * run["reported_firm_share"]


@indicator("家", "高新技术企业数", "High-tech enterprises")
def high_tech_firms_count(run):
    """Certified high-tech enterprises at the year's end (the lists and counts are year-end)."""
    return at_year_end(run["high_tech_enterprises"],
                       run["new_high_tech_certifications"] + run["high_tech_renewals"]
                       - run["certificates_expiring"] - run["certified_firms_closing"])


@indicator("家/年", "新认定高新技术企业", "Newly certified high-tech enterprises")
def high_tech_firms_new_certified_count(run):
    """First certifications per year."""
    return run["new_high_tech_certifications"]


@indicator("家/年", "高新技术企业认定名单", "High-tech certificates issued")
def high_tech_certificates_issued_count(run):
    """Each year's certified list: first certifications and renewals (each certificate runs three years)."""
    return run["certificates_issued"]


@indicator("家", "科技型中小企业", "Technology-based SMEs")
def tech_sme_national_count(run):
    """Technology-based SMEs in the national register."""
    return run["tech_smes"]


@indicator("件/年", "发明专利授权", "Invention patents granted per year")
def invention_patents_granted_count(run):
    """Invention patents granted to the region's applicants per year."""
    return run["invention_patents_granted"]


@indicator("件/年", "发明专利申请", "Invention patent applications per year")
def invention_patent_applications_count(run):
    """Invention patent applications from the region per year."""
    return run["invention_patent_applications"]


@indicator("万件", "规上工业企业有效发明专利", "Valid invention patents of above-scale industry")
def above_scale_industry_valid_invention_patents_10k(run):
    """Valid invention patents held by above-scale industrial firms at the year's end, in 10 000 (the data
    file's unit)."""
    return at_year_end(run["above_scale_valid_patents"],
                       run["above_scale_patents_granted"] - run["patent_lapsing"]) / 1e4


# Digitalisation ---------------------------------------------------------------------------------------

@indicator("%", "数字化研发设计工具普及率", "Digital R&D design tool penetration")
def digital_rd_tool_penetration_pct(run):
    """Share of above-scale firms using digital R&D and design tools (over the firms in the statistics)."""
    return 100 * run["design_tool_penetration"] * run["reported_firm_share"]


@indicator("%", "关键工序数控化率", "CNC rate of key processes")
def cnc_key_process_rate_pct(run):
    """Proxy: share of above-scale firms whose key processes are numerically controlled (over the firms in
    the statistics)."""
    return 100 * run["cnc_rate"] * run["reported_firm_share"]


@indicator("%", "重点生产设备数字化率", "Digitalised key equipment")
def equipment_digitalisation_rate_pct(run):
    """Proxy: share of above-scale firms with digitalised key production equipment (over the firms in the
    statistics)."""
    return 100 * run["equipment_digitalisation_rate"] * run["reported_firm_share"]


@indicator("家", "上云企业数", "Firms on the cloud")
def cloud_firms_count(run):
    """Industrial firms using cloud services."""
    return run["cloud_firms"]


@indicator("%", "数字经济占GDP比重", "Digital economy share of GDP")
def digital_economy_share_of_gdp_pct(run):
    """Digital economy over GDP."""
    return 100 * run["digital_economy_share"]


# Energy and environment -------------------------------------------------------------------------------

@indicator("万吨标准煤", "能源消费总量", "Energy consumption")
def energy_consumption_10k_tce(run):
    """Total energy consumption."""
    return run["energy_consumption"]


@indicator("%", "能源消费总量增速", "Energy consumption growth")
def energy_consumption_growth_pct(run):
    """Growth of total energy consumption."""
    return growth_pct(run["energy_consumption"])


@indicator("吨标准煤/万元", "万元GDP能耗", "Energy per 10k yuan of GDP")
def energy_intensity_tce_per_10k_yuan(run):
    """Energy over real GDP (2010 prices)."""
    return run["energy_consumption"] / run["gdp_real"]


@indicator("%", "万元GDP能耗升降率", "Change of energy per unit GDP")
def energy_intensity_gdp_change_pct(run):
    """Year-on-year change of energy per unit of real GDP (negative = a fall)."""
    return growth_pct(run["energy_consumption"] / run["gdp_real"])


@indicator("吨标准煤/万元", "单位工业增加值能耗", "Energy per 10k yuan of industrial VA")
def industry_energy_intensity_tce_per_10k_yuan(run):
    """Industrial energy over real industrial value added (2010 prices)."""
    return run["industrial_energy_use"] / run["industry_va_real"]


@indicator("%", "单位工业增加值能耗升降率", "Change of energy per unit industrial VA")
def industry_energy_intensity_change_pct(run):
    """Year-on-year change of industrial energy intensity."""
    return growth_pct(run["industrial_energy_use"] / run["industry_va_real"])


@indicator("万吨标准煤/年", "强度变化节能量（负值：强度上升、多耗能）",
           "Energy saved by intensity change (negative: intensity rose)")
def energy_saved_10k_tce(run):
    """Energy saved in the year by lower manufacturing intensities; negative where they rose (new heavy
    plant), which the name says rather than calling a rise a saving."""
    return run["energy_saved"]


@indicator("立方米/万元", "万元工业增加值用水量", "Water per 10k yuan of industrial VA")
def water_per_industry_va_m3_per_10k_yuan(run):
    """Water per 万元 of industrial value added (2010 prices; the data's 2021 figure is at current prices)."""
    return run["water_per_industry_va"]


@indicator("%", "万元工业增加值用水量升降率", "Change of water per unit industrial VA")
def water_per_industry_va_change_pct(run):
    """Year-on-year change of industrial water intensity."""
    return growth_pct(run["water_per_industry_va"])


@indicator("%", "一般工业固体废物综合利用率", "Industrial solid-waste utilisation")
def industrial_solid_waste_utilization_pct(run):
    """Share of general industrial solid waste comprehensively used."""
    return 100 * run["solid_waste_utilisation"]


# Fiscal cost ------------------------------------------------------------------------------------------

@indicator("亿元/年", "财政投入", "Fiscal cost of the programmes")
def fiscal_cost_100m_yuan(run):
    """The region's yearly spending on its manufacturing programmes (current prices), all levers."""
    return run["fiscal_cost"]


@indicator("亿元", "累计财政投入(2010年起)", "Cumulative fiscal cost since 2010")
def fiscal_cost_cumulative_100m_yuan(run):
    """Fiscal cost summed since 2010 (differences of it give any period's total)."""
    return run["cumulative_fiscal_cost"]


@indicator("万人", "制造业从业人员", "Manufacturing employment")
def manufacturing_employment_10k(run):
    """Manufacturing's workforce: the plants' crews, as far as the labour available fills them (an output:
    no series in the data)."""
    return run["manufacturing_employment"]


HEADLINES = [
    "gdp_100m_yuan", "industry_va_100m_yuan", "manufacturing_va_growth_pct", "above_scale_firms_count",
    "tech_upgrade_investment_share_of_industrial_investment_pct", "rd_expenditure_100m_yuan",
    "high_tech_firms_count", "digital_rd_tool_penetration_pct", "digital_economy_share_of_gdp_pct",
    "industry_energy_intensity_tce_per_10k_yuan", "energy_intensity_tce_per_10k_yuan",
    "industrial_solid_waste_utilization_pct",
]
"""The indicators `nxmfg simulate` charts."""


from nxmfg.model import supply_indicators  # noqa: E402, F401  (registers labour, energy-by-fuel and CO2)


def compute(run: xr.Dataset, names: list[str] | None = None) -> xr.Dataset:
    """Indicators of a run (dims `year`, or `run` x `year`), as a Dataset with one variable each."""
    names = list(INDICATORS) if names is None else names
    unknown = sorted(set(names) - set(INDICATORS))
    if unknown:
        raise KeyError(f"unknown indicator(s): {', '.join(unknown)}")
    try:
        with np.errstate(all="ignore"):      # as xarray's arithmetic: NaN and inf, no warnings
            bare = arrays.Bare(run)
            values = {name: INDICATORS[name].func(bare) for name in names}
        dims = arrays.run_dims(run)
        variables = {name: xr.Variable(dims, arrays.as_array(values[name], run)) for name in names}
    except (arrays.Mixed, TypeError, AttributeError):  # dims that differ, or an operation Series lacks: xarray
        variables = {name: INDICATORS[name].func(run).variable for name in names}
    for name in names:
        variables[name].attrs.update(units=INDICATORS[name].unit, long_name=INDICATORS[name].en,
                                     zh=INDICATORS[name].zh)
    coords = {key: run.variables[key] for key in run.coords}
    variables |= coords
    return xr.Dataset._construct_direct(variables, set(coords), {d: run.sizes[d] for d in run.dims},
                                        indexes=dict(run.xindexes))
