package phi

import "strings"

// set builds a lookup table from a space-separated list of lower-case words.
func set(lists ...string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, w := range strings.Fields(l) {
			m[w] = true
		}
	}
	return m
}

// titles make the following single capitalised word a name ("Dr. Grant",
// "Aunt Rosa"): relatives' names are identifiers too.
var titles = set(`mr mrs ms miss mx dr dra doctor doctora prof professor nurse sr sra srta
	señor señora señorita doña aunt auntie uncle tía tia tío tio grandma grandpa granny grandmother
	grandfather abuela abuelo nana pastor rev reverend father mother sister brother chaplain coach
	officer judge captain sergeant rabbi imam principal teacher mayor senator governor bishop deacon
	detective sheriff deputy lieutenant cousin`)

// introducers are lower-case words after which a single capitalised word
// is a name: "my husband, Carlos", "a boy named Leo", "la doctora Ruiz".
var introducers = set(`husband wife son daughter sons daughters mom mother dad father brother
	sister grandson granddaughter grandmother grandfather grandma grandpa aunt uncle cousin nephew
	niece friend boyfriend girlfriend fiancé fiancée fiance fiancee partner baby twin nurse doctor
	surgeon therapist named called esposo esposa marido hijo hija hermano hermana abuela abuelo tía
	tío primo prima amigo amiga enfermera doctora llamado llamada`)

// adverbSuffixes end adverbs that open sentences ("Thankfully", "Sadly").
var adverbSuffixes = []string{"fully", "ately", "ously", "ently", "antly", "ckily", "ppily", "ually", "ically", "denly", "owly", "adly", "estly", "rtly"}

// abbreviations may be followed by a full stop inside a name run.
var abbreviations = set(`mr mrs ms mx dr dra prof sr sra srta rev st mt ft jr`)

// particles join the parts of a name: "José García de la Cruz".
var particles = set(`de del la las los van von der den da das do dos du di le bin ibn al y`)

// orgWords name institutions, departments, places and conditions. A
// capitalised word next to one is part of that name, not a person's.
var orgWords = set(
	// hospitals and departments
	`hospital hospitals clinic clinics center centre centers centres department dept unit units ward
	wing floor institute university college school academy medical medicine health healthcare
	children's children memorial foundation research emergency intensive care critical pediatric
	paediatric neonatal surgical surgery trauma cancer heart kidney transplant rehabilitation rehab
	therapy services service pharmacy laboratory lab hospice association society church chapel
	house home program programme network regional general community system partners associates
	practice physicians presbyterian methodist baptist lutheran adventist catholic life
	specialty specialists team league scouts club company inc llc corp group security administration
	insurance medicaid medicare diabetes syndrome
	disease disorder lymphoma leukemia leukaemia tumor tumour sarcoma palsy cystic`,
	// places
	`saint st san santa mount mt fort ft port lake river valley park beach bay island islands falls
	springs heights hills village town county city parish airport station street avenue road
	boulevard lane drive court place way highway route trail square plaza ave rd blvd ln lodge inn
	hotel hall camp museum zoo library store restaurant cafe mall market world institutes national
	international federal`,
	// Spanish
	`clínica clinica centro médico medico urgencias unidad departamento instituto universidad
	infantil nacional sanatorio cuidados intensivos servicio fundación fundacion hospitalario
	calle avenida`)

// conditionSuffixes mark medical conditions and specialties ("Fibrosis",
// "Cardiology", "Pediatrics").
var conditionSuffixes = []string{"osis", "itis", "emia", "aemia", "pathy", "ectomy", "ology", "iatrics", "iatry", "trics"}

// ambiguousMonths are also first names; they count as names only when
// another name word follows and no date preposition comes before.
var ambiguousMonths = set(`april may june august`)

var datePrepositions = set(`in on of since until till by during last next this early late mid through from to before after de en`)

// stopWords are capitalised words that are not names: sentence starters,
// pronouns, months, weekdays, holidays, states, nationalities and roles.
var stopWords = set(
	`the a an this that these those there here then when while after before during since until as
	at in on of for from to by with without about and but or nor so yet if because although though
	once now today tonight yesterday tomorrow last next every each some many most all both few no
	not our my his her their its your we he she they it you i me us them him who what where why how
	which thanks thank dear hi hello love yes please finally eventually meanwhile still even also
	soon later earlier sometimes always never everyone everybody everything nothing someone one two
	three four five six seven eight nine ten first second third just only over under into onto
	again another other such than up down out off well very really happy merry good great best
	sweet little big old new young dear mom mommy mum dad daddy baby son daughter husband wife
	family friends parents kids god lord covid coronavirus english spanish french chinese american
	african asian hispanic latino latina mexican native united north south east west central
	latin puerto costa buenos hong sri saudi rhode day days year years eve christmas easter
	thanksgiving halloween hanukkah passover ramadan eid diwali valentine's chief director manager
	coordinator specialist therapist physician surgeon resident fellow attending practitioner
	assistant technician volunteer patient patients staff nurses doctors`,
	// months (except the ambiguous ones) and weekdays
	`january february march july september october november december jan feb mar apr jun jul
	aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday`,
	// US states that are not also common first names
	`alabama alaska arizona arkansas california colorado connecticut delaware hawaii idaho illinois
	iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi
	missouri nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont wisconsin
	wyoming york jersey mexico hampshire`,
	// Spanish
	`el la los las un una y pero cuando después despues antes durante hoy ayer mañana gracias su
	sus mi mis nuestro nuestra en con por para desde hasta sin sobre este esta ese esa eso esto
	aquí allí mamá papá enero febrero marzo abril mayo junio julio agosto septiembre octubre
	noviembre diciembre lunes martes miércoles jueves viernes sábado domingo`)
