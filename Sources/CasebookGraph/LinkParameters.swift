/// Every number that decides a link, recorded with each run (`link_runs.parameters`)
/// so a cluster can be explained by the settings that made it.
public struct LinkParameters: Codable, Sendable, Equatable {
    /// A pair of accounts is linked when the weights of what they share add up to this.
    public var threshold = 1.0

    /// A value shared by at most this many accounts (a household's address, a small ring's card)
    /// is weighed pair by pair; one shared by more is judged by its crowd (`CrowdJudge`): it is
    /// evidence only when the sharers otherwise agree, and only between sharers that fit the crowd.
    public var smallCrowdAccounts = 4
    /// A crowd whose coherence reaches this is one operator's; below it, strangers (a hub).
    public var coherentCrowd = 0.6
    /// A crowd agrees on a trait when its lift over the case file's own mix reaches this.
    public var crowdAgreedLift = 0.7
    /// Sharers sampled to judge a crowd, whatever its size.
    public var crowdSampleAccounts = 200
    /// An email domain outside the free-mail providers held by at least this many accounts, two of
    /// them behind one office address, is an organisation's: two sharers of a crowd from two such
    /// domains that share no address are two organisations (firms in one business park's address
    /// block), not one operator, however alike their traits.
    public var organisationMinAccounts = 3

    /// The same payment fingerprint: enough alone.
    public var cardWeight = 1.0

    /// A hosting, business or unclassified IP shared by a few accounts; one shared by a coherent
    /// crowd weighs `crowdIPWeight` (an operator's own address pool).
    public var ipWeight = 0.6
    public var crowdIPWeight = 1.0
    /// A residential IP shared by a few accounts (a home); one shared by more is a proxy exit
    /// or a carrier's, never evidence.
    public var residentialIPWeight = 0.5
    /// Two accounts share an address only if their use of it comes within this many days.
    public var ipOverlapDays = 7
    /// IP kinds shared by crowds of strangers: never evidence on their own.
    public var crowdIPKinds = ["vpn", "mobile", "education", "tor"]

    /// Whether an address of this kind is its user's own (hosting, business or unclassified): an
    /// operator's pool or a firm's office, not a home's line or a crowd's exit (`crowdIPKinds`).
    /// Only such addresses make up a block (`ip_net`) or an office (`CrowdJudge`).
    func isUsersOwnAddress(kind: String?) -> Bool {
        guard let kind else { return true }
        return kind != "residential" && !crowdIPKinds.contains(kind)
    }
    /// Hosting and business addresses in one /24 (IPv4) or /48 (IPv6): an operator that gives each
    /// account its own address in one block. Evidence only when a coherent crowd uses the block.
    public var ipNetWeight = 1.0

    /// A client (user agent) shared by a coherent crowd (a custom harvesting client), or by a few accounts.
    public var userAgentWeight = 0.5

    /// The same email domain, outside the free-mail providers.
    public var emailDomainWeight = 0.3
    public var freeMailDomains = ["gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
                                  "icloud.com", "me.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "aol.com",
                                  "mail.ru", "yandex.ru", "qq.com", "163.com"]
    /// Generated local parts on one non-free domain: a run of at least `emailSequenceMinRun`
    /// addresses with one stem and numbers at most `emailSequenceMaxGap` apart (name0001, name0002, ...).
    public var emailSequenceWeight = 1.0
    public var emailSequenceMaxGap = 2
    public var emailSequenceMinRun = 3

    /// The same BIN on instruments with chargebacks.
    public var chargebackBINWeight = 0.2

    /// Prompt templates: the phrases that recur within an account's prompts, compared across accounts.
    /// A near-identical template is enough alone when it is one operator's: used by a few accounts,
    /// or by a coherent crowd both accounts fit, or by two accounts whose other traits agree on at
    /// least `templateContextBits`. A template used by strangers (a public one) weighs
    /// `publicTemplateWeight`; merely similar templates weigh `similarTemplateWeight`.
    public var templateWeight = 1.0
    public var publicTemplateWeight = 0.5
    public var templateContextBits = 8.0
    public var templateMinJaccard = 0.75
    public var similarTemplateWeight = 0.5
    public var similarTemplateMinJaccard = 0.5
    public var templateSamplePrompts = 24
    public var templateMinPrompts = 10
    /// A phrase counts as part of an account's template when it is in this share (and at least
    /// three) of its sampled prompts: an operator repeats its template in nearly every request,
    /// a person rarely repeats a phrasing in a quarter of theirs.
    public var templatePhraseShare = 0.25
    /// Fewer recurring phrases than this (a sentence of ten words) is a habit of phrasing ("can
    /// you help me write"), not a template: an operator's template repeats at least a sentence,
    /// and a reasoning-extraction template may be no more than one.
    public var templateMinPhrases = 8
    /// Phrases of its own (not generic wording) a template needs to count as its accounts' own wording.
    public var templateMinSpecificPhrases = 8
    /// A template of a few accounts is theirs only if at most this share of their sampled prompts lack it.
    public var templateMaxUntemplatedShare = 0.05
    /// A template a coherent crowd uses is two accounts' operator's only if at most this share of
    /// each one's sampled prompts lack it: people pasting a public template write much of theirs.
    public var templateCrowdMaxUntemplatedShare = 0.25
    /// A phrase in more accounts' templates than this is judged by its crowd: one it takes more
    /// than `commonPhraseMaxKinds` kinds of account (country and client) to make up is generic or
    /// public wording, which no template counts as its own (templates are still compared whole).
    public var commonPhraseMinAccounts = 20
    public var commonPhraseMaxKinds = 3

    /// Synchronized activity: the same active hours, for accounts that are not active around the clock:
    /// most hours shared, or at least `synchronyMinSharedHours` shared at `synchronyMinLift` times chance.
    public var synchronyWeight = 0.6
    public var synchronyMinJaccard = 0.6
    public var synchronyMinSharedHours = 5
    public var synchronyMinLift = 4.0
    public var synchronyMinActiveHours = 12
    public var synchronyMaxActiveShare = 0.5
    /// Accounts of different countries are compared by their hours only when they keep one
    /// schedule of more than `smallCrowdAccounts` accounts on one template; they, and users of a
    /// template strangers use too, only when they share an hour on at least this many times as
    /// many of the days both were active as their hours of the day explain (any day of one
    /// against any day of the other), with chance at most `scheduleMaxChance`: strangers of
    /// neighbouring countries or of one office keep one working day every day, an operator's
    /// accounts keep its bursts, which move from day to day.
    public var synchronyMinDayLift = 1.5
    /// Accounts on one template keep one operator's schedule when their hours fall in the
    /// schedule's hours at least `scheduleMinLift` times as often as chance, and chance would give
    /// that many at most `scheduleMaxChance`; each account is compared with at most
    /// `scheduleMaxCandidates` schedules (a public template's users keep many).
    public var scheduleMinLift = 2.0
    public var scheduleMaxChance = 1e-4
    public var scheduleMaxCandidates = 64

    /// Succession: an account stops and another starts within this many hours on the same
    /// address, block or template (a banned account replaced). The one that stopped must have
    /// been in use at least `successionMinActiveHours`, and stopped that long before the data ends.
    public var successionWeight = 0.5
    public var successionMaxGapHours = 6
    public var successionMinActiveHours = 24

    /// Models counted as "most capable" for the risk indicator: names containing any of these.
    public var capableModelMarkers = ["opus", "ultra", "xl", "large", "max"]

    public init() {}
}
