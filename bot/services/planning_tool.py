"""The Community of Practice planning tool, as data: seven sections, each with a purpose
line and guiding questions. The conversation, the review and the exports all walk
`SECTIONS`; adding a question is one line here.

A question's `key` is what answers are stored under: keep keys stable once in use.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import PURPOSE_AREA_LABELS


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    hint: str = ""
    # "text": a free answer; "areas": a choice among the four activity areas
    kind: str = "text"


@dataclass(frozen=True)
class Section:
    number: int
    key: str
    title: str
    purpose: str  # one line, shown under the section's title
    intro: str  # the tool's own framing of the section
    questions: tuple[Question, ...]


AREAS_TEXT = "; ".join(label.lower() for label in PURPOSE_AREA_LABELS.values())

SECTIONS: tuple[Section, ...] = (
    Section(
        1,
        "purpose",
        "Purpose",
        "Say why the community exists, so every call and decision can be held against it.",
        "Use the following questions to help you draft a purpose statement for your "
        "Community of Practice.",
        (
            Question(
                "purpose.interest",
                "What is the shared area of interest and/or expertise of the members of this "
                "Community of Practice?",
            ),
            Question(
                "purpose.concern",
                "Is there a concern shared among members of this Community of Practice?",
            ),
            Question(
                "purpose.convening",
                "For what purpose are you convening this Community of Practice?",
            ),
            Question(
                "purpose.areas",
                "Which activity areas does your purpose fall into?",
                hint=f"Purposes fall into four areas of activity: {AREAS_TEXT}.",
                kind="areas",
            ),
            Question(
                "purpose.statement",
                "Your purpose statement",
                hint="Defined by the benefits to stakeholders and the goals the community "
                "is organised to meet.",
            ),
        ),
    ),
    Section(
        2,
        "membership",
        "Membership",
        "Make sure the membership matches the purpose.",
        "List the members of your Community of Practice. Consider the purpose of your "
        "Community of Practice and ensure that your membership matches that purpose.",
        (
            Question(
                "membership.profile",
                "What is the profile of an ideal member for this Community of Practice?",
            ),
            Question(
                "membership.essential",
                "Are there certain people who must be members in order for the community "
                "to achieve its purpose?",
            ),
            Question(
                "membership.roles",
                "Are there members who may have different roles and levels of participation?",
            ),
            Question(
                "membership.size",
                "What is the ideal size of your community of practice?",
            ),
            Question(
                "membership.invitation",
                "How will members be invited to join the community?",
            ),
        ),
    ),
    Section(
        3,
        "leadership",
        "Leadership",
        "Decide who sets up meetings, crafts the questions and keeps the community on purpose.",
        "There is a need for some members to take on a leadership role within the Community "
        "of Practice to set up meetings, craft guiding questions or topics, and keep the "
        "community aligned with their purpose.",
        (
            Question(
                "leadership.structure",
                "What will the leadership structure of your Community of Practice be?",
            ),
            Question(
                "leadership.roles",
                "What will the leadership roles and responsibilities be?",
            ),
            Question(
                "leadership.communication",
                "How will the leadership structure be communicated to your members?",
            ),
        ),
    ),
    Section(
        4,
        "norms",
        "Norms",
        "Agree how the community works together, so it is grounded in trust and safety.",
        "In order to create a community grounded in trust and safety, it is recommended that "
        "norms be created which outline the guidelines for the members of your Community of "
        "Practice. Complete each statement of how the community will…",
        (
            Question("norms.voice", "…ensure that all members have a role and a voice."),
            Question("norms.on_track", "…stay on track and aligned with its purpose."),
            Question("norms.conflict", "…manage conflict and disagreement."),
            Question("norms.decisions", "…make decisions or recommendations."),
            Question("norms.resources", "…gather shared resources or knowledge."),
            Question("norms.new_members", "…invite new members to join the community as required."),
            Question("norms.achieved", "…decide when they have achieved their purpose."),
            Question(
                "norms.sharing",
                "How will the norms be developed and shared with the community members?",
            ),
        ),
    ),
    Section(
        5,
        "collaborative_plan",
        "Collaborative plan",
        "Map when, where and how the community meets, in step with its purpose.",
        "Draft a collaborative plan for your Community of Practice. Ensure the plan is aligned "
        "with your purpose and considers the frequency and length of meetings, the format and "
        "content of meetings, and the tools you might use to gather knowledge and share "
        "resources.",
        (
            Question(
                "plan.meetings",
                "How often, when and where will your community meet?",
                hint="A predictable rhythm helps: e.g. a call every month from November to "
                "February, a wrap-up session in April.",
            ),
            Question(
                "plan.activities",
                "What will occur during your meetings to help you achieve your purpose?",
            ),
            Question(
                "plan.tools",
                "What technology or resources will be required?",
            ),
        ),
    ),
    Section(
        6,
        "results",
        "Results & celebrations",
        "Plan the evidence that will show the purpose was achieved, and how you'll celebrate.",
        "Given the purpose of your Community of Practice, think about the evidence you will "
        "collect along the way to demonstrate achievement of that purpose.",
        (
            Question(
                "results.evidence",
                "What evidence will your Community of Practice collect to share with others "
                "at the annual conference?",
            ),
            Question(
                "results.celebration",
                "How will reflection and celebration be embedded throughout?",
            ),
        ),
    ),
    Section(
        7,
        "practice",
        "Connection to professional practice",
        "Connect what members learn here to their own professional practice.",
        "Participation in a Community of Practice is one way that leaders can reflect on "
        "their own practice and continue to grow their skills as leaders. Consider how you "
        "will leverage the learnings acquired during your participation in this Community of "
        "Practice to enhance your professional capacity as a reflective leader.",
        (
            Question(
                "practice.learning",
                "What new knowledge or skills did you acquire as a result of participating in "
                "this Community of Practice and how will these connect to your professional "
                "practice?",
            ),
            Question(
                "practice.reflection",
                "What self-reflective practices will you use to continue to build your "
                "professional capacity?",
            ),
        ),
    ),
)

SECTION_COUNT = len(SECTIONS)
QUESTIONS: dict[str, Question] = {q.key: q for s in SECTIONS for q in s.questions}
SECTION_OF: dict[str, Section] = {q.key: s for s in SECTIONS for q in s.questions}
PURPOSE_STATEMENT_KEY = "purpose.statement"
MAX_ANSWER_LENGTH = 3000


def section(number: int) -> Section:
    """Section `number` (1-based); ValueError with the valid range otherwise."""
    if not 1 <= number <= SECTION_COUNT:
        raise ValueError(f"The plan has sections 1 to {SECTION_COUNT}.")
    return SECTIONS[number - 1]
