//! The demo county's supervision ledger for the current year: a small 任务分解表 of the kind
//! offices keep, imported through the same path as an uploaded one, plus a few progress reports,
//! so a newcomer sees red, yellow and green lights and a liaison's page with work on it.

use zhongshu_domain::supervision::TaskRow;

/// (category, seq, 重点任务, 具体措施, 牵头单位, 责任单位 split by 、, 责任领导, 责任人, 完成时限)
type Line = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const LINES: &[Line] = &[
    (
        "一、推动经济高质量发展",
        "1",
        "重大项目建设",
        "（1）完成年度重大项目投资计划的80%以上",
        "县发展和改革局",
        "县财政局、县自然资源和规划局",
        "孙立华",
        "刘建国",
        "年底前",
    ),
    (
        "一、推动经济高质量发展",
        "1",
        "重大项目建设",
        "（2）建立重大项目月调度、季通报机制",
        "县发展和改革局",
        "县统计局",
        "孙立华",
        "刘建国",
        "3月底前",
    ),
    (
        "一、推动经济高质量发展",
        "1",
        "重大项目建设",
        "（3）开发区新签约亿元以上项目不少于5个",
        "明湖经济开发区管委会",
        "县投资促进局",
        "周红梅",
        "张志远",
        "9月底前完成，年底前见效",
    ),
    (
        "一、推动经济高质量发展",
        "2",
        "优化营商环境",
        "（1）企业开办时间压缩至1个工作日以内",
        "县行政审批服务局",
        "县市场监督管理局、县税务局",
        "周红梅",
        "李娜",
        "6月底前",
    ),
    (
        "一、推动经济高质量发展",
        "2",
        "优化营商环境",
        "（2）开展涉企收费专项检查并形成报告",
        "县市场监督管理局",
        "县财政局",
        "周红梅",
        "陈刚",
        "11月底前",
    ),
    (
        "一、推动经济高质量发展",
        "2",
        "优化营商环境",
        "（3）每月报送营商环境问题整改进展",
        "县政务服务中心",
        "县行政审批服务局",
        "周红梅",
        "王丽",
        "每月25日前报送进展",
    ),
    (
        "二、持续改善民生福祉",
        "3",
        "教育优质均衡",
        "（1）新建改扩建幼儿园3所",
        "县教育局",
        "县财政局、县住房和城乡建设局",
        "周红梅",
        "赵敏",
        "8月底前",
    ),
    (
        "二、持续改善民生福祉",
        "3",
        "教育优质均衡",
        "（2）完成中小学教师轮岗交流",
        "县教育局",
        "县人力资源和社会保障局",
        "周红梅",
        "赵敏",
        "三季度末",
    ),
    (
        "二、持续改善民生福祉",
        "4",
        "基层医疗服务",
        "（1）乡镇卫生院远程诊疗全覆盖",
        "县卫生健康局",
        "县数据资源局",
        "周红梅",
        "孙静",
        "12月上旬前",
    ),
    (
        "二、持续改善民生福祉",
        "4",
        "基层医疗服务",
        "（2）家庭医生签约服务覆盖率达到75%",
        "县卫生健康局",
        "明湖镇、城关镇",
        "周红梅",
        "孙静",
        "年底前",
    ),
    (
        "二、持续改善民生福祉",
        "5",
        "城镇老旧小区改造",
        "（1）完成12个老旧小区改造",
        "县住房和城乡建设局",
        "东城街道、西城街道",
        "孙立华",
        "周强",
        "10月底前",
    ),
    (
        "三、提升基层治理效能",
        "6",
        "矛盾纠纷化解",
        "（1）信访积案清仓见底",
        "县信访局",
        "县委政法委员会、县司法局",
        "陈国平",
        "吴涛",
        "长期坚持",
    ),
    (
        "三、提升基层治理效能",
        "6",
        "矛盾纠纷化解",
        "（2）开展矛盾纠纷排查化解专项行动",
        "县委政法委员会",
        "明湖镇、青石镇、白沙镇",
        "陈国平",
        "吴涛",
        "上半年",
    ),
    (
        "三、提升基层治理效能",
        "7",
        "应急管理能力",
        "（1）修订县级突发事件总体应急预案",
        "县应急管理局",
        "县委总值班室",
        "陈国平",
        "郑伟",
        "12月20日前",
    ),
    (
        "三、提升基层治理效能",
        "7",
        "应急管理能力",
        "（2）组织防汛抗旱综合演练不少于2次",
        "县水利局",
        "县应急管理局、县气象局",
        "陈国平",
        "郑伟",
        "5月底前完成第一次，9月底前完成第二次",
    ),
];

/// The demo ledger's rows; rows with a deadline the grammar refuses are left out rather than
/// failing the demo (the grammar is tested on its own).
pub fn rows() -> Vec<TaskRow> {
    LINES
        .iter()
        .enumerate()
        .map(|(i, l)| TaskRow {
            row: i + 3,
            category: l.0.to_owned(),
            seq: l.1.to_owned(),
            task: l.2.to_owned(),
            measure: l.3.to_owned(),
            lead_unit: l.4.to_owned(),
            co_units: l
                .5
                .split('、')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            leader: l.6.to_owned(),
            person: l.7.to_owned(),
            deadline: l.8.to_owned(),
            note: String::new(),
        })
        .collect()
}

/// Progress the demo's liaisons have reported: (measure, liaison username, done, problems,
/// percent).
pub const REPORTS: &[(&str, &str, &str, &str, i64)] = &[
    (
        "（1）完成年度重大项目投资计划的80%以上",
        "fgj_lly",
        "1至10月完成投资42.6亿元，占年度计划的78%。",
        "2个项目用地报批滞后。",
        78,
    ),
    (
        "（1）企业开办时间压缩至1个工作日以内",
        "xzsp_lly",
        "企业开办“一网通办”上线，平均用时0.8个工作日。",
        "",
        100,
    ),
    (
        "（2）家庭医生签约服务覆盖率达到75%",
        "wjj_lly",
        "签约覆盖率达到68%，重点人群签约率91%。",
        "偏远村组签约率偏低。",
        70,
    ),
    (
        "（1）完成12个老旧小区改造",
        "zjj_lly",
        "已完工9个，3个正在进行管网改造。",
        "雨季影响施工进度。",
        75,
    ),
];
