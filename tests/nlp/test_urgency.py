"""The urgency screen: one flag per kind, with the evidence a handler reads; the net behind it."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.analysis import Analyzer
from nlp.features import FeatureConfig
from nlp.linear import LinearTextModel
from nlp.normalize import normalize_text
from nlp.urgency import (
    MODEL_LABEL_SUFFIX,
    NET_READING,
    URGENCY_KINDS,
    UrgencyScreen,
    default_urgency_screen,
    load_urgency_screen,
)


def kinds(text: str) -> set[str]:
    return {flag.kind for flag in default_urgency_screen().screen(normalize_text(text))}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("他再来闹我就弄死他", "threat"),
        ("这事不解决我跟他同归于尽", "threat"),
        ("钱都被骗光了，我不想活了", "self_harm"),
        ("真想从楼上跳下去", "self_harm"),
        ("安眠药我已经攒了一瓶", "self_harm"),
        ("去年划过手腕，这回不想再拖累家里", "self_harm"),
        ("那个辅警动手打人", "violence"),
        ("他们把我按在地上", "violence"),
        ("老公喝了酒就打我", "domestic_violence"),
        ("我又被丈夫打了", "domestic_violence"),
        ("办案民警索要好处费", "integrity"),
        ("听说对方给民警送了烟酒", "integrity"),
        ("他说不罚款也可以，就看你怎么表示", "integrity"),  # leniency on a condition
        ("民警暗里让我们出点“心意”", "integrity"),  # a quoted euphemism for money
        ("再不处理我就去北京上访", "escalation"),
        ("我要找媒体曝光", "escalation"),
        ("几户人家准备联名反映", "escalation"),
        ("派出所管不了我们就到上面去告", "escalation"),
        ("辅警在我店里吃饭从来不给钱", "integrity"),
        ("你们不管我就自己去找他算账", "escalation"),
        ("我明天就到派出所门口拉横幅", "escalation"),  # 问到派出所门口 (below) is not
        ("他们把我往车上撞", "violence"),
        ("那人把我撞车上了", "violence"),  # 撞车后 (a collision, below) is not
        ("辅警故意开警车撞车", "violence"),
        ("把我的头撞车门上", "violence"),
        ("我就天天跑到派出所门口去", "escalation"),
        ("不给办我就找到公安局门口", "escalation"),
        ("孩子被开水烫伤了", "violence"),  # burns: 烟头, 开水, 热油 …
        ("他拿热油泼我", "violence"),
        ("他用热水烫我", "violence"),
        ("他说知道我住哪", "threat"),  # the citizen threatened, in a short comment
        ("那人放话说知道我家在哪", "threat"),
        ("我老公昨晚拿烟头烫我", "domestic_violence"),
        ("老公喝醉了扇我", "domestic_violence"),
        # Found missing by an audit's own wording (rules 2026.12.06.4):
        ("他发短信说知道我女儿在哪个学校上学", "threat"),
        ("我已经在天台上了", "self_harm"),
        ("我把自己割伤了，流了好多血", "self_harm"),
        ("民警和对方吃饭喝酒，后来就不管了", "integrity"),
        # Rules 2026.12.06.5, from the probe set's kinds of wording (not its sentences):
        ("wo zhen de bu xiang huo le", "self_harm"),  # pinyin
        ("I just want to end it all", "self_harm"),
        ("屋里放了一袋炭，门窗都关好了", "self_harm"),
        ("胳膊上又划了几道", "self_harm"),
        ("替我跟我妈说声对不起", "self_harm"),
        ("没有我，孩子们会过得更轻松", "self_harm"),
        ("真想睡过去不用再醒", "self_harm"),
        ("我说想死不是开玩笑的", "self_harm"),
        ("他再找我麻烦，等着收尸吧", "threat"),
        ("那个人以后最好别让我碰见", "threat"),
        ("I swear I'll kill him", "threat"),
        ("差佬推我，打到我手臂都瘀了", "violence"),
        ("The officer punched my brother", "violence"),
        ("协警被醉汉咬了一口", "violence"),
        ("My husband hits me every night", "domestic_violence"),
        ("办事要俾利是先得", "integrity"),
        ("罚款让转到他私人银行卡上", "integrity"),
        ("他说整两条好烟就好办了", "integrity"),
        ("The officer asked me for cash before stamping it", "integrity"),
        ("横幅都印好了，明天见", "escalation"),
        ("等着上新闻吧你们", "escalation"),
        ("I will contact the media", "escalation"),
        # Rules 2026.12.06.7 and .8, from the third probe set's kinds of wording:
        ("再来找事，我让他这辈子下不了床", "threat"),
        ("那个司机我记住了，他以后走夜路小心点", "threat"),
        ("老伴走了，我准备过些日子去陪她", "self_harm"),
        ("他又开始了，我躲在厕所里发的", "domestic_violence"),
        ("办证让我把钱转到他老婆的账户上", "integrity"),
        ("再不处理我就全程直播维权", "escalation"),
        ("送了两箱好酒才给立案", "integrity"),
        ("那人放狗咬民警", "violence"),
        ("协警的脸被抓破了", "violence"),
    ],
)
def test_flags_kind(text: str, kind: str) -> None:
    assert kind in kinds(text)


def test_flag_carries_label_and_evidence() -> None:
    (flag,) = default_urgency_screen().screen(normalize_text("我不想活了"))
    assert flag.kind == "self_harm"
    assert flag.label
    assert flag.evidence in "我不想活了"


@pytest.mark.parametrize(
    "text",
    [
        "民警拒收红包，为他点赞",
        "民警打电话告诉我结果了",
        "非常满意，出警很快",
        "送礼都不收，很正派",
        "调解时对方拿出诚意赔偿了",
        "群众联名送来锦旗",
        "派出所的风扇坏了，夏天太热",
        "民警勒令商户整改",
        "办证大厅需要戳个章",
        "窗口给我盖个戳就办好了",
        "民警谢绝了礼物",
        "汤太烫了",
        "窗口给的茶太烫我没敢喝",
        "大厅的饮水机热水烧得很慢",
        "开水烧好了民警给我倒了一杯",
        "我妈报警说邻居家的狗咬了孩子",
        "我在人大附中门口被偷了手机",
        "问路问到派出所门口，辅警直接把我领过去了",
        "撞车后交警七八分钟就到现场了",
        "我在天台上晒被子",
        "切菜时不小心割伤了自己",
        "商场跳楼价甩卖，人太多了",
        "打死我也想不到钱包能找回来",
        "电脑又卡了，真想弄死它",
        "下周去北京出差，临时身份证明开得很快",
        "想送点土特产谢谢民警，他说什么也不收",
        "被骗子骗得转账三万，民警帮我追回来了",
        "那天他想不开爬上天台，是民警把他劝下来的",
        "调解的时候民警把双方都劝住了，没动手",
        "拍证件照曝光过度，重拍了一张",
        "我不会去上访的，只想快点有个结果",
        # Lawsuits are an ordinary channel (the corpus's conventions name petitions,
        # media and taking matters into one's own hands), and harm that did not happen:
        "民警建议我走法律途径，我已经在起诉了",
        "对方不肯赔，我准备打官司",
        "醉汉拿着菜刀乱挥，民警几下就把刀夺了，没人受伤",
        "老公天天打我电话问进度",
        "我当时觉得活着没意思，民警陪我聊了一晚上，现在走出来了",
        "办完我爸的后事，来派出所销户",
        "电视台记者来小区拍反诈宣传，民警讲得很好",
        # Everyday wording the rules of 2026.12.06.7 flagged in public reviews (rules .8):
        "苹果很甜，咬一口全是汁",
        "要了两份米饭，只给了一盒",
        "残疾人的福利是什么",
        "联想s10的键盘很好用",
        "手机屏幕划了一道",
        "头皮痒得恨不得抓破",
        "看完躲在厕所里哭了",
        "写了也没人在乎",
        # ... and everyday phrases the first wording of those rules would have caught (rules .9):
        "办完证赶紧回家去陪孩子",
        "民警的声音让我很安心",
        "排队太久我们早点走了",
        "希望别让我再遇到这样的事",
        "民警提醒我们出门小心点",
        "我妈病得下不了床，民警上门办的证",
        "我们一家老小都在这边住，希望治安好一点",
        "民警把走失的孩子送到她家",
        "窗口让我付钱再取证",
        "民警把被撞倒的老人扶了起来",
        "打民警电话没人接",
        "I can't go on vacation until my passport is renewed",
        "The scammer asked me for money",
        "the weekend it was busy",
        "gei le shou ju",
    ],
)
def test_no_flag(text: str) -> None:
    assert kinds(text) == set()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我知道你家\n住哪里", "threat"),  # an SMS wrapped mid-sentence
        ("我知道你家 住 哪里", "threat"),
        ("我知道你家住\u200b哪里", "threat"),  # a zero-width space from a paste
        ("他喝醉了就\u200b打我和孩子", "domestic_violence"),
        ("他扇了我一巴掌", "violence"),
        ("民警用手铐勒得我手腕都紫了", "violence"),
    ],
)
def test_spaces_and_invisible_characters_do_not_hide_a_flag(text: str, kind: str) -> None:
    assert kind in kinds(text)


def test_traditional_and_fullwidth_input() -> None:
    assert "self_harm" in kinds("我不想活了！！")
    assert "integrity" in kinds("民警收紅包")


def test_rules_are_data(tmp_path: object) -> None:
    screen = UrgencyScreen({"threat": {"label": "测试", "patterns": ["测一测"]}}, version="t")
    assert [flag.evidence for flag in screen.screen("我们测一测")] == ["测一测"]


def test_shipped_rules_cover_every_kind() -> None:
    screen = load_urgency_screen()
    texts = ["弄死他", "不想活了", "打人", "家暴", "索贿", "上访"]
    found = {flag.kind for text in texts for flag in screen.screen(text)}
    assert found == set(URGENCY_KINDS)


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("他要杀了我", "杀了"),  # a pattern that starts with a character
        ("他叫人来堵我", "叫人来"),  # one that starts with a group
        ("他们拽着我头发", "拽着我头发"),  # one that starts with a class
        ("我会打电话给你", None),  # one that may start with anything, and nothing matches
        ("请他吃饭了", None),
    ],
)
def test_every_kind_of_pattern_start_is_screened_in(text: str, evidence: str | None) -> None:
    # The screen first looks for the rule's alternatives in two groups (plain first
    # character, anything else), and runs the rule only where one of them matches.
    patterns = ["杀了", "(?:叫|找)人来", "[拽拉]着我头发", ".?打人"]
    screen = UrgencyScreen({"threat": {"label": "测试", "patterns": patterns}}, version="t")
    assert [flag.evidence for flag in screen.screen(text)] == ([evidence] if evidence else [])


def test_unless_spans_of_every_kind_are_merged() -> None:
    screen = default_urgency_screen()
    text = normalize_text("民警拒收红包，还打电话推荐了律师")
    # 拒收红包 (integrity), 打电话 and 推荐 (violence, adjacent: one stretch).
    assert [text[start:end] for start, end in screen.unless_spans(text)] == ["拒收红包", "打电话推荐"]
    assert screen.unless_spans("出警很快") == []


# A hand-made net over character bigrams, so what it flags does not depend on the
# shipped weights: 红包 and 推荐 read as integrity, 烟头 as domestic violence.
NET_TERMS = ["推荐", "烟头", "红包"]
NET_CLASSES = ("0", "domestic_violence", "integrity")


@pytest.fixture(scope="module")
def bigram_net_analyzer() -> Analyzer:
    coef = np.array([[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [3.0, 0.0, 3.0]])
    model = LinearTextModel(
        task="urgency",
        version="bigrams",
        classes=NET_CLASSES,
        multilabel=False,
        config=FeatureConfig(char_min=2, char_max=2, use_lexicon=False),
        terms={"c": NET_TERMS, "w": [], "l": []},
        idf={"c": np.ones(len(NET_TERMS)), "w": np.ones(0)},
        coef=coef,
        intercept=np.array([0.0, -1.0, -1.0]),
        metadata={"threshold": 0.5},
    )
    return Analyzer(urgency_model=model)


@pytest.mark.parametrize(
    "text",
    [
        "民警拒收红包，给他们点个赞",  # an integrity phrase covers 红包
        "红包他们坚决不收，很正派",
        "民警推荐的调解员很专业负责",  # a violence phrase covers 推荐, which the net reads as integrity
    ],
)
def test_text_an_unless_phrase_covers_raises_no_net_flag(bigram_net_analyzer: Analyzer, text: str) -> None:
    assert not bigram_net_analyzer.analyze(text).is_urgent


def test_the_net_still_flags_what_lies_outside_the_phrases(bigram_net_analyzer: Analyzer) -> None:
    # 打电话 is covered (a violence phrase); the report beside it is not.
    (flag,) = bigram_net_analyzer.analyze("民警打电话问过，我老公总拿烟头吓唬我").urgency_flags
    assert (flag.kind, flag.evidence) == ("domestic_violence", "我老公总拿烟头吓唬我")
    assert flag.label.endswith(MODEL_LABEL_SUFFIX)


@pytest.mark.parametrize(
    "text",
    [
        "民警拒收红包，给他们点个赞",  # integrity: 拒收红包
        "交警退回了我们送的红包",  # integrity: 退回…红包
        "我们送的红包民警坚决不收",  # integrity: 红包…坚决不收
        "事后想给民警包个红包，他们坚决不收",
        "打我一个措手不及，还好民警帮忙",  # violence: 打我一个措手不及 (the net said domestic violence)
    ],
)
def test_the_shipped_net_respects_unless_phrases(analyzer: Analyzer, text: str) -> None:
    """Praise and homographs the shipped net flagged before it counted the phrases out."""
    assert not analyzer.analyze(text).is_urgent


def test_the_net_does_not_speak_for_a_short_comment(bigram_net_analyzer: Analyzer) -> None:
    """In a few characters one n-gram carries the whole score: the rules alone judge them."""
    assert bigram_net_analyzer.analyze("他拿着烟头在我面前晃来晃去").is_urgent
    assert bigram_net_analyzer.analyze("他拿着烟头在我面前晃").is_urgent  # 10 characters
    assert not bigram_net_analyzer.analyze("他拿着烟头").is_urgent
    assert not bigram_net_analyzer.analyze("他拿着烟头！！😡😡😡😡😡").is_urgent  # marks and emoji count for nothing


@pytest.mark.parametrize("text", ["我要投诉", "我要投诉这个民警", "我气炸了", "民警", "他", "派出所", "我要举报他们"])
def test_the_shipped_net_leaves_short_everyday_replies_alone(analyzer: Analyzer, text: str) -> None:
    """Replies the net flagged (我要投诉 as violence, 我气炸了 as self-harm) before the floor."""
    assert not analyzer.analyze(text).is_urgent


def test_a_net_flag_beside_a_phrase_quotes_the_text_outside_it(analyzer: Analyzer) -> None:
    (flag,) = analyzer.analyze("他打电话说大不了找上门去讨这笔钱，出了事算他的").urgency_flags
    assert flag.kind == "threat"
    assert flag.label.endswith(MODEL_LABEL_SUFFIX)
    assert "打电话" not in flag.evidence
    assert flag.evidence in {"说大不了找上门去讨这笔钱", "出了事算他的"}  # not the remnant 他


def test_the_analysis_version_names_how_the_net_reads(analyzer: Analyzer) -> None:
    """The same model flags less than before, so a rescore must re-read older analyses."""
    assert f"+urg-{default_urgency_screen().version}.{NET_READING}." in analyzer.model_version


@pytest.mark.parametrize("text", ["我要杀\x07了他", "我要\x00杀了他", "我不想\x1b活了"])
def test_control_characters_do_not_hide_a_flag(analyzer: Analyzer, text: str) -> None:
    assert analyzer.analyze(text).is_urgent
