//! The demo county 明湖县: a fictional county with about 150 units (15
//! townships and subdistricts, about 135 county departments, offices, courts,
//! state companies, hospitals and schools, and a few internal offices nested
//! under the 县委办公室 and the 县政府办公室).
//!
//! 明湖县 does not exist. Its units carry the names that units of a Chinese
//! county ordinarily carry; its people are invented and any likeness to a real
//! person is accidental. The data exists so that `zhongshu demo` can load a
//! living system: a newcomer logs in and sees a county with units, liaisons,
//! heads, a supervision office, an information desk and a duty office, instead
//! of an empty database.
//!
//! Usernames are built from the unit's code (the pinyin initials of the unit)
//! and a role suffix: every unit gets a liaison `{code}_lly` (联络员) and a
//! head `{code}_fzr` (负责人), e.g. `czj_lly` and `czj_fzr` for 县财政局.
//! The named office staff with special roles are listed in [`PEOPLE`].

/// One unit of the demo county.
pub struct DemoUnit {
    /// Short pinyin code, unique, lowercase ASCII letters and digits only
    /// (e.g. "czj" for 县财政局, "mhz" for 明湖镇); used to build usernames.
    pub code: &'static str,
    /// Chinese name, unique in the county.
    pub name: &'static str,
    /// Unit type label, one of: "乡镇", "街道", "县直部门", "办公室", "其他"
    /// (其他 for courts, state companies, hospitals, schools and vertical
    /// agencies such as 税务局 and 气象局).
    pub unit_type: &'static str,
    /// 重点信息报送单位 (key reporting unit): about 20 units, the big
    /// departments and a few townships.
    pub key_reporting: bool,
    /// Code of the parent unit, or None when directly under the county (the
    /// region).
    pub parent: Option<&'static str>,
}

/// Name of the demo region, the county itself.
pub const REGION_NAME: &str = "明湖县";

/// The units of 明湖县. A parent is always listed before its children.
pub const UNITS: &[DemoUnit] = &[
    // 县委办公室、县政府办公室及其内设机构
    DemoUnit {
        code: "xwb",
        name: "县委办公室",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "xwdcs",
        name: "县委督查室",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xwb"),
    },
    DemoUnit {
        code: "xwxxk",
        name: "县委信息科",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xwb"),
    },
    DemoUnit {
        code: "xwzbs",
        name: "县委总值班室",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xwb"),
    },
    DemoUnit {
        code: "xwmsk",
        name: "县委秘书科",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xwb"),
    },
    DemoUnit {
        code: "xzfb",
        name: "县政府办公室",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "zfdcs",
        name: "县政府督查室",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xzfb"),
    },
    DemoUnit {
        code: "zfxxk",
        name: "县政府信息科",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xzfb"),
    },
    DemoUnit {
        code: "zfmsk",
        name: "县政府秘书科",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xzfb"),
    },
    DemoUnit {
        code: "zfzbs",
        name: "县政府总值班室",
        unit_type: "办公室",
        key_reporting: false,
        parent: Some("xzfb"),
    },
    // 县人大、县政协、县纪委监委与县委工作机关
    DemoUnit {
        code: "rdb",
        name: "县人大常委会办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zxb",
        name: "县政协办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jwjw",
        name: "县纪委监委",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zzb",
        name: "县委组织部",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "xcb",
        name: "县委宣传部",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "tzb",
        name: "县委统战部",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zfw",
        name: "县委政法委员会",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xwbb",
        name: "县委编办",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wxb",
        name: "县委网信办",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jybm",
        name: "县委机要保密局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zys",
        name: "县委政策研究室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "shgzb",
        name: "县委社会工作部",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xcban",
        name: "县委巡察工作领导小组办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lgbj",
        name: "县委老干部局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jggw",
        name: "县直机关工委",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dsy",
        name: "县委党史研究室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dx",
        name: "县委党校",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    // 县政府工作部门
    DemoUnit {
        code: "fgj",
        name: "县发展和改革局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "jyj",
        name: "县教育局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "kjj",
        name: "县科学技术局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gxj",
        name: "县工业和信息化局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "mzzj",
        name: "县民族宗教事务局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gaj",
        name: "县公安局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "mzj",
        name: "县民政局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "sfj",
        name: "县司法局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "czj",
        name: "县财政局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "rsj",
        name: "县人力资源和社会保障局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "zrzyj",
        name: "县自然资源和规划局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "sthj",
        name: "明湖生态环境分局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zjj",
        name: "县住房和城乡建设局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "cgj",
        name: "县城市管理局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jtj",
        name: "县交通运输局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "slj",
        name: "县水利局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "nyj",
        name: "县农业农村局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "swj",
        name: "县商务局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wglj",
        name: "县文化广电和旅游局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wjj",
        name: "县卫生健康局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "tyjr",
        name: "县退役军人事务局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "yjj",
        name: "县应急管理局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "sjj",
        name: "县审计局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "scjg",
        name: "县市场监督管理局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "tjj",
        name: "县统计局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ybj",
        name: "县医疗保障局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lyj",
        name: "县林业局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xczx",
        name: "县乡村振兴局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xfj",
        name: "县信访局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "sjzy",
        name: "县数据资源局",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    // 县政府直属事业单位与议事协调机构办公室
    DemoUnit {
        code: "zwfw",
        name: "县政务服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xzsp",
        name: "县行政审批服务局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "tcj",
        name: "县投资促进局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lsj",
        name: "县粮食和物资储备局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "rfb",
        name: "县人民防空办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jrfw",
        name: "县金融服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wqb",
        name: "县外事侨务办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "tb",
        name: "县台湾工作办公室",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jgsw",
        name: "县机关事务服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "rmt",
        name: "县融媒体中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dag",
        name: "县档案馆",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dfz",
        name: "县地方志编纂中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ggzy",
        name: "县公共资源交易中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "rxzx",
        name: "县12345政务服务便民热线中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wgh",
        name: "县网格化服务管理中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "bdc",
        name: "县不动产登记中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gjj",
        name: "县住房公积金管理中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "sbj",
        name: "县社会保险事业管理局",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jyfw",
        name: "县就业服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "flyz",
        name: "县法律援助中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gzc",
        name: "县公证处",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "njtg",
        name: "县农业技术推广中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xmsy",
        name: "县畜牧兽医服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "njfw",
        name: "县农机服务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ymzx",
        name: "县水库移民事务中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "glzx",
        name: "县公路事业发展中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "fzjz",
        name: "县防震减灾中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "hwzx",
        name: "县环境卫生管理中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ylzx",
        name: "县园林绿化中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jyjc",
        name: "县检验检测中心",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jtzf",
        name: "县交通运输综合行政执法大队",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "cgzf",
        name: "县城市管理综合行政执法大队",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "nyzf",
        name: "县农业综合行政执法大队",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "whzf",
        name: "县文化市场综合行政执法大队",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    // 群团组织
    DemoUnit {
        code: "zgh",
        name: "县总工会",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "txw",
        name: "团县委",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "fl",
        name: "县妇联",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "kx",
        name: "县科协",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gsl",
        name: "县工商联",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "cl",
        name: "县残联",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "wl",
        name: "县文联",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "hszh",
        name: "县红十字会",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ggw",
        name: "县关工委",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gxs",
        name: "县供销社",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    // 功能区
    DemoUnit {
        code: "kfq",
        name: "明湖经济开发区管委会",
        unit_type: "县直部门",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "hqgw",
        name: "明湖湖区管理委员会",
        unit_type: "县直部门",
        key_reporting: false,
        parent: None,
    },
    // 政法机关、垂直管理单位与驻县单位
    DemoUnit {
        code: "fy",
        name: "县人民法院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jcy",
        name: "县人民检察院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "rwb",
        name: "县人民武装部",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "shuiwu",
        name: "县税务局",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "qxj",
        name: "县气象局",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dcd",
        name: "国家统计局明湖调查队",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xfdd",
        name: "县消防救援大队",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "yc",
        name: "县烟草专卖局",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "rmyh",
        name: "中国人民银行明湖县支行",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    // 医院、学校与其他事业单位
    DemoUnit {
        code: "rmyy",
        name: "县人民医院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zyy",
        name: "县中医院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "fybjy",
        name: "县妇幼保健院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jkzx",
        name: "县疾病预防控制中心",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dyzx",
        name: "县第一中学",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dezx",
        name: "县第二中学",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zjzx",
        name: "县职业教育中心",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "syxx",
        name: "县实验小学",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "tsg",
        name: "县图书馆",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "whg",
        name: "县文化馆",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "flyy",
        name: "县社会福利院",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lc",
        name: "国营明湖林场",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "skglc",
        name: "明湖水库管理处",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    // 国有企业与驻县企业
    DemoUnit {
        code: "ctgs",
        name: "县城投公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gtjt",
        name: "县国有资产投资控股集团",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "jtjt",
        name: "县交通投资集团",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "zls",
        name: "县自来水公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gjgs",
        name: "县公共交通公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "nsyh",
        name: "明湖农商银行",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "gdgs",
        name: "国网明湖县供电公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "yzgs",
        name: "县邮政分公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dxgs",
        name: "中国电信明湖分公司",
        unit_type: "其他",
        key_reporting: false,
        parent: None,
    },
    // 乡镇与街道
    DemoUnit {
        code: "mhz",
        name: "明湖镇",
        unit_type: "乡镇",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "cgz",
        name: "城关镇",
        unit_type: "乡镇",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "qsz",
        name: "青石镇",
        unit_type: "乡镇",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "bsz",
        name: "白沙镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "tyz",
        name: "桃源镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "sxz",
        name: "双溪镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "smz",
        name: "石门镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lqz",
        name: "龙泉镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "bgz",
        name: "北岗镇",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "lhx",
        name: "柳河乡",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "ytx",
        name: "云台乡",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "xlx",
        name: "杏林乡",
        unit_type: "乡镇",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "dcjd",
        name: "东城街道",
        unit_type: "街道",
        key_reporting: true,
        parent: None,
    },
    DemoUnit {
        code: "xcjd",
        name: "西城街道",
        unit_type: "街道",
        key_reporting: false,
        parent: None,
    },
    DemoUnit {
        code: "nhjd",
        name: "南湖街道",
        unit_type: "街道",
        key_reporting: false,
        parent: None,
    },
];

/// One named person of the county office staff with a role (besides the
/// per-unit liaison and head that the loader creates for every unit as
/// `{code}_lly` (联络员) and `{code}_fzr` (负责人)).
pub struct DemoPerson {
    /// Login name, e.g. "ducha".
    pub username: &'static str,
    /// A plausible fictional Chinese personal name, e.g. "王建军".
    pub display_name: &'static str,
    /// Code of the person's unit in [`UNITS`].
    pub unit: &'static str,
    /// Role codes, from: "leader", "supervisor", "editor", "liaison",
    /// "unit_head", "duty_officer", "sys_admin", "security_admin",
    /// "audit_admin".
    pub roles: &'static [&'static str],
    /// Job title, e.g. "督查室主任".
    pub title: &'static str,
}

/// The named office staff of 明湖县. All names are invented.
pub const PEOPLE: &[DemoPerson] = &[
    // 三员: system, security and audit administrators, kept in three units.
    DemoPerson {
        username: "xitong",
        display_name: "刘志刚",
        unit: "sjzy",
        roles: &["sys_admin"],
        title: "系统管理员",
    },
    DemoPerson {
        username: "anquan",
        display_name: "马丽娟",
        unit: "jybm",
        roles: &["security_admin"],
        title: "安全保密管理员",
    },
    DemoPerson {
        username: "shenji",
        display_name: "胡文斌",
        unit: "xwb",
        roles: &["audit_admin"],
        title: "安全审计员",
    },
    // 县委办公室
    DemoPerson {
        username: "lingdao",
        display_name: "陈国平",
        unit: "xwb",
        roles: &["leader"],
        title: "县委常委、县委办公室主任",
    },
    DemoPerson {
        username: "ducha",
        display_name: "王建军",
        unit: "xwdcs",
        roles: &["supervisor"],
        title: "县委督查室主任",
    },
    DemoPerson {
        username: "xinxi",
        display_name: "李晓燕",
        unit: "xwxxk",
        roles: &["editor"],
        title: "县委信息科科长",
    },
    DemoPerson {
        username: "zhiban",
        display_name: "赵磊",
        unit: "xwzbs",
        roles: &["duty_officer"],
        title: "县委总值班室值班员",
    },
    // 县政府办公室
    DemoPerson {
        username: "xianzhang",
        display_name: "孙立华",
        unit: "xzfb",
        roles: &["leader"],
        title: "县委副书记、县长",
    },
    DemoPerson {
        username: "fuxianzhang",
        display_name: "周红梅",
        unit: "xzfb",
        roles: &["leader"],
        title: "副县长",
    },
    DemoPerson {
        username: "ducha2",
        display_name: "吴海涛",
        unit: "zfdcs",
        roles: &["supervisor"],
        title: "县政府督查室主任",
    },
    DemoPerson {
        username: "xinxi2",
        display_name: "郑静",
        unit: "zfxxk",
        roles: &["editor"],
        title: "县政府信息科科长",
    },
];

/// Username of a unit's generated liaison (联络员), e.g. "czj_lly".
pub fn liaison_username(code: &str) -> String {
    format!("{code}_lly")
}

/// Username of a unit's generated head (负责人), e.g. "czj_fzr".
pub fn head_username(code: &str) -> String {
    format!("{code}_fzr")
}

/// Display name for a unit's generated liaison, e.g. "县财政局联络员".
pub fn liaison_display_name(unit_name: &str) -> String {
    format!("{unit_name}联络员")
}

/// Display name for a unit's generated head, e.g. "县财政局负责人".
pub fn head_display_name(unit_name: &str) -> String {
    format!("{unit_name}负责人")
}

/// The unit with this code, if any.
pub fn find_unit(code: &str) -> Option<&'static DemoUnit> {
    UNITS.iter().find(|u| u.code == code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const UNIT_TYPES: &[&str] = &["乡镇", "街道", "县直部门", "办公室", "其他"];
    const ROLES: &[&str] = &[
        "leader",
        "supervisor",
        "editor",
        "liaison",
        "unit_head",
        "duty_officer",
        "sys_admin",
        "security_admin",
        "audit_admin",
    ];

    #[test]
    fn the_county_has_between_145_and_160_units() {
        assert!((145..=160).contains(&UNITS.len()), "{} units", UNITS.len());
    }

    #[test]
    fn unit_codes_are_unique() {
        let mut seen = HashSet::new();
        for u in UNITS {
            assert!(seen.insert(u.code), "duplicate code {}", u.code);
        }
    }

    #[test]
    fn unit_codes_are_short_lowercase_ascii_starting_with_a_letter() {
        for u in UNITS {
            let first = u.code.chars().next().unwrap();
            assert!(first.is_ascii_lowercase(), "bad code {}", u.code);
            assert!(
                u.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "bad code {}",
                u.code
            );
            assert!(u.code.len() <= 12, "code too long {}", u.code);
        }
    }

    #[test]
    fn unit_names_are_unique() {
        let mut seen = HashSet::new();
        for u in UNITS {
            assert!(seen.insert(u.name), "duplicate name {}", u.name);
        }
    }

    #[test]
    fn every_unit_type_is_a_known_label() {
        for u in UNITS {
            assert!(
                UNIT_TYPES.contains(&u.unit_type),
                "{} has {}",
                u.code,
                u.unit_type
            );
        }
    }

    #[test]
    fn every_parent_is_listed_before_its_children() {
        let mut earlier = HashSet::new();
        for u in UNITS {
            if let Some(p) = u.parent {
                assert!(
                    earlier.contains(p),
                    "{} has parent {p} not listed before it",
                    u.code
                );
            }
            earlier.insert(u.code);
        }
    }

    #[test]
    fn some_units_are_nested_under_a_parent() {
        assert!(UNITS.iter().filter(|u| u.parent.is_some()).count() >= 5);
    }

    #[test]
    fn the_county_has_about_fifteen_townships_and_subdistricts() {
        let n = UNITS
            .iter()
            .filter(|u| u.unit_type == "乡镇" || u.unit_type == "街道")
            .count();
        assert!((12..=18).contains(&n), "{n} townships and subdistricts");
    }

    #[test]
    fn about_twenty_units_are_key_reporting_units() {
        let n = UNITS.iter().filter(|u| u.key_reporting).count();
        assert!((15..=25).contains(&n), "{n} key reporting units");
    }

    #[test]
    fn usernames_of_people_are_unique_and_do_not_collide_with_generated_ones() {
        let mut seen = HashSet::new();
        for p in PEOPLE {
            assert!(seen.insert(p.username), "duplicate username {}", p.username);
            assert!(!p.username.ends_with("_lly"), "{}", p.username);
            assert!(!p.username.ends_with("_fzr"), "{}", p.username);
        }
        for u in UNITS {
            assert!(!seen.contains(liaison_username(u.code).as_str()));
            assert!(!seen.contains(head_username(u.code).as_str()));
        }
    }

    #[test]
    fn every_person_belongs_to_a_listed_unit_and_has_known_roles() {
        for p in PEOPLE {
            assert!(
                find_unit(p.unit).is_some(),
                "{} in unknown unit {}",
                p.username,
                p.unit
            );
            assert!(!p.roles.is_empty(), "{} has no role", p.username);
            for r in p.roles {
                assert!(ROLES.contains(r), "{} has unknown role {r}", p.username);
            }
        }
    }

    #[test]
    fn the_seven_required_people_are_present_with_their_roles() {
        let required = [
            ("xitong", "sys_admin"),
            ("anquan", "security_admin"),
            ("shenji", "audit_admin"),
            ("ducha", "supervisor"),
            ("xinxi", "editor"),
            ("lingdao", "leader"),
            ("zhiban", "duty_officer"),
        ];
        for (username, role) in required {
            let p = PEOPLE
                .iter()
                .find(|p| p.username == username)
                .expect(username);
            assert!(p.roles.contains(&role), "{username} lacks {role}");
        }
    }

    #[test]
    fn the_office_staff_sit_in_the_right_offices() {
        let unit_of = |username: &str| PEOPLE.iter().find(|p| p.username == username).unwrap().unit;
        assert_eq!(find_unit(unit_of("ducha")).unwrap().name, "县委督查室");
        assert_eq!(find_unit(unit_of("xinxi")).unwrap().name, "县委信息科");
        assert_eq!(find_unit(unit_of("zhiban")).unwrap().name, "县委总值班室");
        assert_eq!(find_unit(unit_of("lingdao")).unwrap().name, "县委办公室");
    }

    #[test]
    fn generated_usernames_follow_the_suffix_convention() {
        assert_eq!(liaison_username("czj"), "czj_lly");
        assert_eq!(head_username("czj"), "czj_fzr");
        assert_eq!(liaison_display_name("县财政局"), "县财政局联络员");
        assert_eq!(head_display_name("县财政局"), "县财政局负责人");
        assert_eq!(find_unit("czj").unwrap().name, "县财政局");
        assert_eq!(find_unit("mhz").unwrap().name, "明湖镇");
    }
}
