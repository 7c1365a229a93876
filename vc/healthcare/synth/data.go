package synth

// state is what the generator knows of a US state, DC or territory: its
// name, its capital and a ZIP code there, an area code, and the two-digit
// state code that starts a CMS Certification Number.
type state struct {
	code, name, city, zip, area, ccn string
}

// states covers every code of the schemas' usState enumeration.
var states = []state{
	{"AL", "Alabama", "Montgomery", "36104", "334", "01"},
	{"AK", "Alaska", "Juneau", "99801", "907", "02"},
	{"AZ", "Arizona", "Phoenix", "85004", "602", "03"},
	{"AR", "Arkansas", "Little Rock", "72201", "501", "04"},
	{"CA", "California", "Sacramento", "95814", "916", "05"},
	{"CO", "Colorado", "Denver", "80202", "303", "06"},
	{"CT", "Connecticut", "Hartford", "06103", "860", "07"},
	{"DE", "Delaware", "Dover", "19901", "302", "08"},
	{"DC", "District of Columbia", "Washington", "20001", "202", "09"},
	{"FL", "Florida", "Tallahassee", "32301", "850", "10"},
	{"GA", "Georgia", "Atlanta", "30303", "404", "11"},
	{"HI", "Hawaii", "Honolulu", "96813", "808", "12"},
	{"ID", "Idaho", "Boise", "83702", "208", "13"},
	{"IL", "Illinois", "Springfield", "62701", "217", "14"},
	{"IN", "Indiana", "Indianapolis", "46204", "317", "15"},
	{"IA", "Iowa", "Des Moines", "50309", "515", "16"},
	{"KS", "Kansas", "Topeka", "66603", "785", "17"},
	{"KY", "Kentucky", "Frankfort", "40601", "502", "18"},
	{"LA", "Louisiana", "Baton Rouge", "70801", "225", "19"},
	{"ME", "Maine", "Augusta", "04330", "207", "20"},
	{"MD", "Maryland", "Annapolis", "21401", "410", "21"},
	{"MA", "Massachusetts", "Boston", "02108", "617", "22"},
	{"MI", "Michigan", "Lansing", "48933", "517", "23"},
	{"MN", "Minnesota", "Saint Paul", "55102", "651", "24"},
	{"MS", "Mississippi", "Jackson", "39201", "601", "25"},
	{"MO", "Missouri", "Jefferson City", "65101", "573", "26"},
	{"MT", "Montana", "Helena", "59601", "406", "27"},
	{"NE", "Nebraska", "Lincoln", "68508", "402", "28"},
	{"NV", "Nevada", "Carson City", "89701", "775", "29"},
	{"NH", "New Hampshire", "Concord", "03301", "603", "30"},
	{"NJ", "New Jersey", "Trenton", "08608", "609", "31"},
	{"NM", "New Mexico", "Santa Fe", "87501", "505", "32"},
	{"NY", "New York", "Albany", "12207", "518", "33"},
	{"NC", "North Carolina", "Raleigh", "27601", "919", "34"},
	{"ND", "North Dakota", "Bismarck", "58501", "701", "35"},
	{"OH", "Ohio", "Columbus", "43215", "614", "36"},
	{"OK", "Oklahoma", "Oklahoma City", "73102", "405", "37"},
	{"OR", "Oregon", "Salem", "97301", "503", "38"},
	{"PA", "Pennsylvania", "Harrisburg", "17101", "717", "39"},
	{"RI", "Rhode Island", "Providence", "02903", "401", "41"},
	{"SC", "South Carolina", "Columbia", "29201", "803", "42"},
	{"SD", "South Dakota", "Pierre", "57501", "605", "43"},
	{"TN", "Tennessee", "Nashville", "37219", "615", "44"},
	{"TX", "Texas", "Austin", "78701", "512", "45"},
	{"UT", "Utah", "Salt Lake City", "84111", "801", "46"},
	{"VT", "Vermont", "Montpelier", "05602", "802", "47"},
	{"VA", "Virginia", "Richmond", "23219", "804", "49"},
	{"WA", "Washington", "Olympia", "98501", "360", "50"},
	{"WV", "West Virginia", "Charleston", "25301", "304", "51"},
	{"WI", "Wisconsin", "Madison", "53703", "608", "52"},
	{"WY", "Wyoming", "Cheyenne", "82001", "307", "53"},
	{"PR", "Puerto Rico", "San Juan", "00901", "787", "40"},
	{"GU", "Guam", "Hagatna", "96910", "671", "65"},
	{"VI", "U.S. Virgin Islands", "Charlotte Amalie", "00802", "340", "48"},
	{"AS", "American Samoa", "Pago Pago", "96799", "684", "64"},
	{"MP", "Northern Mariana Islands", "Saipan", "96950", "670", "66"},
}

// populous are the states most providers and patients are drawn from.
var populous = []string{"CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "AZ", "WA", "MA", "NJ", "VA", "CO"}

// stateIndex maps a USPS code to its index in states.
var stateIndex = func() map[string]int {
	m := make(map[string]int, len(states))
	for i, s := range states {
		m[s.code] = i
	}
	return m
}()

var (
	femaleNames = []string{"Priya", "Nora", "Emily", "Sofia", "Aisha", "Maria", "Grace", "Hannah", "Olivia",
		"Mei", "Fatima", "Chloe", "Laura", "Rachel", "Ana", "Keisha", "Yuki", "Elena", "Sarah", "Amara",
		"Julia", "Leah", "Camila", "Ingrid", "Nadia"}
	maleNames = []string{"James", "Daniel", "Wei", "Carlos", "Michael", "Omar", "David", "Samuel", "Arjun",
		"Lucas", "Ethan", "Mateo", "Kwame", "Thomas", "Hiroshi", "Andre", "Benjamin", "Noah", "Rafael",
		"Isaac", "Victor", "Jamal", "Peter", "Diego", "Sean"}
	familyNames = []string{"Anderson", "Lewis", "Nguyen", "Garcia", "Smith", "Johnson", "Patel", "Kim",
		"Williams", "Brown", "Martinez", "Chen", "Okafor", "Rodriguez", "Davis", "Wilson", "Lopez", "Singh",
		"Thompson", "Moore", "Hernandez", "Clark", "Young", "Walker", "Hall", "Allen", "Wright", "Scott",
		"Green", "Baker", "Adams", "Nelson", "Hill", "Ramirez", "Campbell", "Mitchell", "Roberts", "Carter",
		"Phillips", "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards", "Stewart", "Flores",
		"Morris", "Murphy", "Cook", "Rogers", "Morgan", "Peterson", "Cooper", "Reed", "Bailey", "Bell",
		"Gomez", "Kelly", "Howard", "Ward", "Cox", "Diaz", "Richardson", "Wood", "Watson", "Brooks",
		"Bennett", "Gray", "James", "Reyes", "Cruz", "Hughes", "Price", "Myers", "Long", "Foster",
		"Sanders", "Ross", "Morales", "Powell", "Sullivan", "Russell", "Ortiz", "Jenkins", "Gutierrez",
		"Perry", "Butler", "Barnes", "Fisher", "Henderson", "Coleman", "Simmons", "Patterson", "Jordan",
		"Reynolds", "Hamilton", "Graham", "O'Brien", "Yamamoto"}
	givenNames  = append(append([]string(nil), femaleNames...), maleNames...)
	streets     = []string{"Cedar", "Maple", "Oak", "Lakeview", "Main", "Park", "Washington", "Elm", "Hillcrest", "River", "Sunset", "Highland", "Mill", "Church", "Willow", "Meadow"}
	streetKinds = []string{"St", "Ave", "Rd", "Ln", "Blvd", "Dr", "Way", "Ct"}
)

// specialty is a NUCC taxonomy code with the board that certifies it.
type specialty struct {
	code, display string
	board         board
	department    string
	privileges    []string // delineated privileges beyond the core ones
}

// board is a certifying board.
type board struct {
	abbr, name, umbrella string
	timeLimited          bool // certificates carry an expirationDate
}

var (
	abim  = board{"ABIM", "American Board of Internal Medicine", "ABMS", false}
	abfm  = board{"ABFM", "American Board of Family Medicine", "ABMS", true}
	abp   = board{"ABP", "American Board of Pediatrics", "ABMS", true}
	abem  = board{"ABEM", "American Board of Emergency Medicine", "ABMS", true}
	abpn  = board{"ABPN", "American Board of Psychiatry and Neurology", "ABMS", true}
	aba   = board{"ABA", "American Board of Anesthesiology", "ABMS", true}
	abs   = board{"ABS", "American Board of Surgery", "ABMS", true}
	abog  = board{"ABOG", "American Board of Obstetrics and Gynecology", "ABMS", true}
	abr   = board{"ABR", "American Board of Radiology", "ABMS", true}
	aobim = board{"AOBIM", "American Osteopathic Board of Internal Medicine", "AOA", true}
	aobfp = board{"AOBFP", "American Osteopathic Board of Family Physicians", "AOA", true}
	nccpa = board{"NCCPA", "National Commission on Certification of Physician Assistants", "NCCPA", true}
	aanp  = board{"AANPCB", "American Academy of Nurse Practitioners Certification Board", "AANPCB", true}
	ancc  = board{"ANCC", "American Nurses Credentialing Center", "ANCC", true}
)

// specialties by license type. DOs are certified by AOA boards for the
// specialties that have one, else by ABMS boards.
var specialties = map[string][]specialty{
	"MD": {
		{"207R00000X", "Internal Medicine", abim, "Internal Medicine", []string{"Central venous catheter placement", "Paracentesis"}},
		{"207RC0000X", "Cardiovascular Disease", abim, "Cardiology", []string{"Transthoracic echocardiography", "Cardiac stress testing"}},
		{"207Q00000X", "Family Medicine", abfm, "Family Medicine", []string{"Minor office procedures", "Joint injection"}},
		{"208000000X", "Pediatrics", abp, "Pediatrics", []string{"Newborn care", "Lumbar puncture"}},
		{"207P00000X", "Emergency Medicine", abem, "Emergency Medicine", []string{"Procedural sedation", "Endotracheal intubation"}},
		{"2084P0800X", "Psychiatry", abpn, "Psychiatry", []string{"Electroconvulsive therapy"}},
		{"207L00000X", "Anesthesiology", aba, "Anesthesiology", []string{"General anesthesia", "Regional anesthesia"}},
		{"208600000X", "Surgery", abs, "Surgery", []string{"Laparoscopic surgery", "Open abdominal surgery"}},
		{"207V00000X", "Obstetrics & Gynecology", abog, "Women's Health", []string{"Vaginal delivery", "Cesarean delivery"}},
		{"2085R0202X", "Diagnostic Radiology", abr, "Radiology", []string{"CT interpretation", "Image-guided biopsy"}},
		{"208M00000X", "Hospitalist", abim, "Hospital Medicine", []string{"Procedural sedation", "Paracentesis"}},
	},
	"DO": {
		{"207R00000X", "Internal Medicine", aobim, "Internal Medicine", []string{"Central venous catheter placement"}},
		{"207Q00000X", "Family Medicine", aobfp, "Family Medicine", []string{"Osteopathic manipulative treatment", "Minor office procedures"}},
		{"207P00000X", "Emergency Medicine", abem, "Emergency Medicine", []string{"Procedural sedation"}},
		{"208M00000X", "Hospitalist", aobim, "Hospital Medicine", []string{"Procedural sedation"}},
	},
	"NP": {
		{"363LF0000X", "Family Nurse Practitioner", aanp, "Family Medicine", []string{"Minor office procedures"}},
		{"363LA2200X", "Adult Health Nurse Practitioner", ancc, "Internal Medicine", nil},
		{"363LP0808X", "Psychiatric/Mental Health Nurse Practitioner", ancc, "Psychiatry", nil},
	},
	"PA": {
		{"363A00000X", "Physician Assistant", nccpa, "Surgery", []string{"First assist in surgery"}},
		{"363AM0700X", "Medical Physician Assistant", nccpa, "Internal Medicine", nil},
	},
	"RN": {
		{"163W00000X", "Registered Nurse", ancc, "Nursing", nil},
	},
}

// licenseTypes describes the HL7 v2-0360 degrees the generator uses.
var licenseTypes = map[string]struct{ display, profession, suffix string }{
	"MD": {"Doctor of Medicine", "Physician and Surgeon", "MD"},
	"DO": {"Doctor of Osteopathy", "Osteopathic Physician and Surgeon", "DO"},
	"NP": {"Nurse practitioner", "Advanced Practice Registered Nurse", "NP"},
	"PA": {"Physician Assistant", "Physician Assistant", "PA-C"},
	"RN": {"Registered Nurse", "Registered Nurse", "RN"},
}

var hospitalKinds = []string{"General Hospital", "Medical Center", "Regional Medical Center", "Community Hospital", "University Hospital", "Memorial Hospital"}
