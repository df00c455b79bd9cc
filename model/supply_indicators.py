"""Indicators of the supply side: manufacturing's workforce, energy by fuel, CO2 and the quotas.

Registered into `indicators.INDICATORS` when model/indicators.py is imported (it imports this module
last). The data hold none of these series for Ningxia: they are the model's outputs, in the units the
statistics and the climate plan use.
"""

from nxmfg.model.indicators import growth_pct, indicator

KWH100M_PER_TCE10K = 1e7 / 0.1229 / 1e8   # 亿千瓦时 per 万吨标准煤 of electricity at its equivalent value
                                          # (GB/T 2589-2020: 0.1229 kgce per kWh)


# Labour ----------------------------------------------------------------------------------------------

@indicator("万人", "制造业可用劳动力", "Labour available to manufacturing")
def labour_available_to_manufacturing_10k(run):
    """Most workers manufacturing can employ: its 2010 workforce and a reserve, growing with the region's
    urban unit employment (data to 2023, then an outlook)."""
    return run["labour_available_to_manufacturing"]


@indicator("%", "制造业用工缺口", "Manufacturing labour shortfall")
def manufacturing_labour_shortfall_pct(run):
    """Share of the plants' crews that the labour available cannot fill (0 while labour suffices)."""
    return 100 * run["labour_shortfall"]


# Energy by fuel --------------------------------------------------------------------------------------

@indicator("吨标准煤/万元", "高耗能制造业单位增加值能耗", "Energy per 10k yuan of heavy VA")
def heavy_industry_energy_intensity_tce_per_10k_yuan(run):
    """Energy used by the energy-heavy segment (coal chemicals, metallurgy, building materials) over its
    real value added (2010 prices)."""
    return run["heavy_energy_use"] / run["heavy_va_real"]


@indicator("吨标准煤/万元", "其他制造业单位增加值能耗", "Energy per 10k yuan of light VA")
def light_manufacturing_energy_intensity_tce_per_10k_yuan(run):
    """Energy used by the rest of manufacturing over its real value added (2010 prices)."""
    return run["light_energy_use"] / run["light_va_real"]


@indicator("万吨标准煤", "煤炭消费量", "Coal consumption")
def coal_consumption_10k_tce(run):
    """Coal burnt or converted in the region, coal-fired power included."""
    return run["coal_consumption"]


@indicator("万吨标准煤", "石油消费量", "Oil consumption")
def oil_consumption_10k_tce(run):
    """Oil products used in the region."""
    return run["oil_consumption"]


@indicator("万吨标准煤", "天然气消费量", "Natural gas consumption")
def gas_consumption_10k_tce(run):
    """Natural gas used in the region."""
    return run["gas_consumption"]


@indicator("万吨标准煤", "非化石能源消费量", "Non-fossil energy consumption")
def non_fossil_energy_10k_tce(run):
    """Primary electricity from wind, solar and hydro, at the coal-fired heat rate (发电煤耗法)."""
    return run["non_fossil_energy"]


@indicator("%", "煤炭占能源消费比重", "Coal share of energy consumption")
def coal_share_of_energy_pct(run):
    """Coal's share of total energy consumption."""
    return 100 * run["coal_consumption"] / run["energy_consumption"]


@indicator("%", "非化石能源占能源消费比重", "Non-fossil share of energy consumption")
def non_fossil_share_of_energy_pct(run):
    """Non-fossil energy's share of total energy consumption."""
    return 100 * run["non_fossil_energy"] / run["energy_consumption"]


@indicator("%", "非化石能源发电量占比", "Non-fossil share of power generation")
def non_fossil_power_share_pct(run):
    """Wind, solar and hydro's share of power generation: an input (assumed history, then the draft
    carbon-peak plan's targets)."""
    return 100 * run["non_fossil_power_share"]


@indicator("亿千瓦时", "全社会用电量", "Electricity consumption")
def electricity_consumption_100m_kwh(run):
    """Electricity consumed in the region, converted from its equivalent value in tce."""
    return KWH100M_PER_TCE10K * run["final_electricity_use"]


# CO2 -------------------------------------------------------------------------------------------------

@indicator("万吨", "二氧化碳排放量", "CO2 emissions")
def co2_emissions_10k_t(run):
    """Energy-related CO2: fossil fuels times the IPCC 2006 default factors, less the carbon stored in
    coal-chemical products (process emissions are not counted)."""
    return run["co2_emissions"]


@indicator("吨/万元", "单位地区生产总值二氧化碳排放", "CO2 per 10k yuan of GDP")
def co2_intensity_t_per_10k_yuan(run):
    """Energy-related CO2 over real GDP (2010 prices): what the climate plan's quota caps."""
    return run["co2_emissions"] / run["gdp_real"]


@indicator("%", "单位地区生产总值二氧化碳排放升降率", "Change of CO2 per unit GDP")
def co2_intensity_change_pct(run):
    """Year-on-year change of CO2 per unit of real GDP (negative = a fall)."""
    return growth_pct(run["co2_emissions"] / run["gdp_real"])


@indicator("%", "二氧化碳排放超出配额比例", "CO2 over its quota")
def co2_over_quota_pct(run):
    """Share of the region's CO2 over the intensity quota (0 within it): what curtails energy-heavy
    projects."""
    return 100 * run["co2_quota_excess"]
