{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			40.0,
			60.0,
			2165.0,
			1508.0
		],
		"bglocked": 0,
		"openinpresentation": 0,
		"default_fontsize": 12.0,
		"default_fontface": 0,
		"default_fontname": "Arial",
		"gridonopen": 1,
		"gridsize": [
			15.0,
			15.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"boxanimatetime": 200,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"description": "",
		"digest": "",
		"tags": "",
		"style": "",
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						10.0,
						700.0,
						20.0
					],
					"text": "mrtd control \u2014 generated from mrtd/osc_schema by `python -m mrtd.devtools.clients`; do not edit by hand"
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						40.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						70.0,
						172.0,
						22.0
					],
					"text": "udpsend 127.0.0.1 9000"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						210.0,
						70.0,
						420.0,
						20.0
					],
					"text": "to mrtd: UDP 127.0.0.1:9000 (send 'host x' / 'port n' to change)"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						110.0,
						72.0,
						22.0
					],
					"text": "loadbang"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						140.0,
						158.0,
						22.0
					],
					"text": "/mrtd/subscribe 9002"
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						190.0,
						140.0,
						172.0,
						22.0
					],
					"text": "/mrtd/unsubscribe 9002"
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						180.0,
						122.0,
						22.0
					],
					"text": "udpreceive 9002"
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						210.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						170.0,
						180.0,
						420.0,
						20.0
					],
					"text": "feedback: mrtd sends every change and the meters to UDP port 9002"
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						260.0,
						280.0,
						20.0
					],
					"text": "prompt slot 1"
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						316.0,
						290.0,
						20.0
					],
					"text": "prompt/1/text"
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						150.0,
						336.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						20.0,
						362.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						20.0,
						390.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						416.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						442.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/1/text"
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						468.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						504.0,
						290.0,
						20.0
					],
					"text": "prompt/1/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						150.0,
						524.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						550.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						668.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/1/weight"
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						694.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						730.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/1/clear"
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						756.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						790.0,
						290.0,
						20.0
					],
					"text": "prompt/1/status"
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						810.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						836.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						286.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						165.0,
						286.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/1/text /mrtd/prompt/1/weight /mrtd/prompt/1/status"
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						260.0,
						280.0,
						20.0
					],
					"text": "prompt slot 2"
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						316.0,
						290.0,
						20.0
					],
					"text": "prompt/2/text"
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						450.0,
						336.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						320.0,
						362.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						320.0,
						390.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						416.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						442.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/2/text"
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						468.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						504.0,
						290.0,
						20.0
					],
					"text": "prompt/2/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						450.0,
						524.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						550.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						668.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/2/weight"
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						694.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						730.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/2/clear"
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						756.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						790.0,
						290.0,
						20.0
					],
					"text": "prompt/2/status"
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						810.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						836.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						286.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						465.0,
						286.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/2/text /mrtd/prompt/2/weight /mrtd/prompt/2/status"
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						260.0,
						280.0,
						20.0
					],
					"text": "prompt slot 3"
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						316.0,
						290.0,
						20.0
					],
					"text": "prompt/3/text"
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						750.0,
						336.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						620.0,
						362.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						620.0,
						390.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						416.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						442.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/3/text"
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						468.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						504.0,
						290.0,
						20.0
					],
					"text": "prompt/3/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						750.0,
						524.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						550.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						668.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/3/weight"
				}
			},
			{
				"box": {
					"id": "obj-63",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						694.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-64",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						730.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/3/clear"
				}
			},
			{
				"box": {
					"id": "obj-65",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						756.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-66",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						790.0,
						290.0,
						20.0
					],
					"text": "prompt/3/status"
				}
			},
			{
				"box": {
					"id": "obj-67",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						810.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-68",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						836.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-69",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						286.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-70",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						765.0,
						286.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/3/text /mrtd/prompt/3/weight /mrtd/prompt/3/status"
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						260.0,
						280.0,
						20.0
					],
					"text": "prompt slot 4"
				}
			},
			{
				"box": {
					"id": "obj-72",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						316.0,
						290.0,
						20.0
					],
					"text": "prompt/4/text"
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1050.0,
						336.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-74",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						920.0,
						362.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						920.0,
						390.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-76",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						416.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						442.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/4/text"
				}
			},
			{
				"box": {
					"id": "obj-78",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						468.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-79",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						504.0,
						290.0,
						20.0
					],
					"text": "prompt/4/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1050.0,
						524.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-81",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						550.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-82",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						668.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/4/weight"
				}
			},
			{
				"box": {
					"id": "obj-83",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						694.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-84",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						730.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/4/clear"
				}
			},
			{
				"box": {
					"id": "obj-85",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						756.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-86",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						790.0,
						290.0,
						20.0
					],
					"text": "prompt/4/status"
				}
			},
			{
				"box": {
					"id": "obj-87",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						810.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-88",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						836.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-89",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						286.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1065.0,
						286.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/4/text /mrtd/prompt/4/weight /mrtd/prompt/4/status"
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						890.0,
						280.0,
						20.0
					],
					"text": "prompt slot 5"
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						946.0,
						290.0,
						20.0
					],
					"text": "prompt/5/text"
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						150.0,
						966.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						20.0,
						992.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-95",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						20.0,
						1020.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-96",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1046.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-97",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1072.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/5/text"
				}
			},
			{
				"box": {
					"id": "obj-98",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						1098.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-99",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						1134.0,
						290.0,
						20.0
					],
					"text": "prompt/5/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-100",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						150.0,
						1154.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-101",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1180.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-102",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1298.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/5/weight"
				}
			},
			{
				"box": {
					"id": "obj-103",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						1324.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-104",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1360.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/5/clear"
				}
			},
			{
				"box": {
					"id": "obj-105",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						1386.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-106",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						1420.0,
						290.0,
						20.0
					],
					"text": "prompt/5/status"
				}
			},
			{
				"box": {
					"id": "obj-107",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1440.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-108",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						1466.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-109",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						916.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-110",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						165.0,
						916.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/5/text /mrtd/prompt/5/weight /mrtd/prompt/5/status"
				}
			},
			{
				"box": {
					"id": "obj-111",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						890.0,
						280.0,
						20.0
					],
					"text": "prompt slot 6"
				}
			},
			{
				"box": {
					"id": "obj-112",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						946.0,
						290.0,
						20.0
					],
					"text": "prompt/6/text"
				}
			},
			{
				"box": {
					"id": "obj-113",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						450.0,
						966.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-114",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						320.0,
						992.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-115",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						320.0,
						1020.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-116",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1046.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-117",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1072.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/6/text"
				}
			},
			{
				"box": {
					"id": "obj-118",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						1098.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-119",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						1134.0,
						290.0,
						20.0
					],
					"text": "prompt/6/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-120",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						450.0,
						1154.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-121",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1180.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-122",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1298.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/6/weight"
				}
			},
			{
				"box": {
					"id": "obj-123",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						1324.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-124",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1360.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/6/clear"
				}
			},
			{
				"box": {
					"id": "obj-125",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						1386.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-126",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						320.0,
						1420.0,
						290.0,
						20.0
					],
					"text": "prompt/6/status"
				}
			},
			{
				"box": {
					"id": "obj-127",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1440.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-128",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						1466.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-129",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						916.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-130",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						465.0,
						916.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/6/text /mrtd/prompt/6/weight /mrtd/prompt/6/status"
				}
			},
			{
				"box": {
					"id": "obj-131",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						890.0,
						280.0,
						20.0
					],
					"text": "prompt slot 7"
				}
			},
			{
				"box": {
					"id": "obj-132",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						946.0,
						290.0,
						20.0
					],
					"text": "prompt/7/text"
				}
			},
			{
				"box": {
					"id": "obj-133",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						750.0,
						966.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-134",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						620.0,
						992.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-135",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						620.0,
						1020.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-136",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1046.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-137",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1072.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/7/text"
				}
			},
			{
				"box": {
					"id": "obj-138",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						1098.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-139",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						1134.0,
						290.0,
						20.0
					],
					"text": "prompt/7/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-140",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						750.0,
						1154.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-141",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1180.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-142",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1298.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/7/weight"
				}
			},
			{
				"box": {
					"id": "obj-143",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						1324.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-144",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1360.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/7/clear"
				}
			},
			{
				"box": {
					"id": "obj-145",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						1386.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-146",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						620.0,
						1420.0,
						290.0,
						20.0
					],
					"text": "prompt/7/status"
				}
			},
			{
				"box": {
					"id": "obj-147",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1440.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-148",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						1466.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-149",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						916.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-150",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						765.0,
						916.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/7/text /mrtd/prompt/7/weight /mrtd/prompt/7/status"
				}
			},
			{
				"box": {
					"id": "obj-151",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						890.0,
						280.0,
						20.0
					],
					"text": "prompt slot 8"
				}
			},
			{
				"box": {
					"id": "obj-152",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						946.0,
						290.0,
						20.0
					],
					"text": "prompt/8/text"
				}
			},
			{
				"box": {
					"id": "obj-153",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1050.0,
						966.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-154",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						920.0,
						992.0,
						180.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-155",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						920.0,
						1020.0,
						86.0,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-156",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1046.0,
						72.0,
						22.0
					],
					"text": "tosymbol"
				}
			},
			{
				"box": {
					"id": "obj-157",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1072.0,
						208.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/8/text"
				}
			},
			{
				"box": {
					"id": "obj-158",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						1098.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-159",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						1134.0,
						290.0,
						20.0
					],
					"text": "prompt/8/weight (0..1)"
				}
			},
			{
				"box": {
					"id": "obj-160",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1050.0,
						1154.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-161",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1180.0,
						24.0,
						110.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 2
				}
			},
			{
				"box": {
					"id": "obj-162",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1298.0,
						223.0,
						22.0
					],
					"text": "prepend /mrtd/prompt/8/weight"
				}
			},
			{
				"box": {
					"id": "obj-163",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						1324.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-164",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1360.0,
						158.0,
						22.0
					],
					"text": "/mrtd/prompt/8/clear"
				}
			},
			{
				"box": {
					"id": "obj-165",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						1386.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-166",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						920.0,
						1420.0,
						290.0,
						20.0
					],
					"text": "prompt/8/status"
				}
			},
			{
				"box": {
					"id": "obj-167",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1440.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-168",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						1466.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-169",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920.0,
						916.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-170",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1065.0,
						916.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/prompt/8/text /mrtd/prompt/8/weight /mrtd/prompt/8/status"
				}
			},
			{
				"box": {
					"id": "obj-171",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						40.0,
						280.0,
						20.0
					],
					"text": "sampling"
				}
			},
			{
				"box": {
					"id": "obj-172",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						96.0,
						290.0,
						20.0
					],
					"text": "guidance/style (-1..7)"
				}
			},
			{
				"box": {
					"id": "obj-173",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						116.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-174",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						142.0,
						70.0,
						22.0
					],
					"format": 6,
					"minimum": -1.0,
					"maximum": 7.0
				}
			},
			{
				"box": {
					"id": "obj-175",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						170.0,
						216.0,
						22.0
					],
					"text": "prepend /mrtd/guidance/style"
				}
			},
			{
				"box": {
					"id": "obj-176",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						196.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-177",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						232.0,
						290.0,
						20.0
					],
					"text": "guidance/notes (-1..7)"
				}
			},
			{
				"box": {
					"id": "obj-178",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						252.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-179",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						278.0,
						70.0,
						22.0
					],
					"format": 6,
					"minimum": -1.0,
					"maximum": 7.0
				}
			},
			{
				"box": {
					"id": "obj-180",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						306.0,
						216.0,
						22.0
					],
					"text": "prepend /mrtd/guidance/notes"
				}
			},
			{
				"box": {
					"id": "obj-181",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						332.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-182",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						368.0,
						290.0,
						20.0
					],
					"text": "guidance/drums (-1..7)"
				}
			},
			{
				"box": {
					"id": "obj-183",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						388.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-184",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						414.0,
						70.0,
						22.0
					],
					"format": 6,
					"minimum": -1.0,
					"maximum": 7.0
				}
			},
			{
				"box": {
					"id": "obj-185",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						442.0,
						216.0,
						22.0
					],
					"text": "prepend /mrtd/guidance/drums"
				}
			},
			{
				"box": {
					"id": "obj-186",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						468.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-187",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						504.0,
						290.0,
						20.0
					],
					"text": "temperature (0..4)"
				}
			},
			{
				"box": {
					"id": "obj-188",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						524.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-189",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						550.0,
						70.0,
						22.0
					],
					"format": 6,
					"minimum": 0.0,
					"maximum": 4.0
				}
			},
			{
				"box": {
					"id": "obj-190",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						578.0,
						194.0,
						22.0
					],
					"text": "prepend /mrtd/temperature"
				}
			},
			{
				"box": {
					"id": "obj-191",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						604.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-192",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						640.0,
						290.0,
						20.0
					],
					"text": "topk (1..1024)"
				}
			},
			{
				"box": {
					"id": "obj-193",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						660.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-194",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						686.0,
						70.0,
						22.0
					],
					"minimum": 1,
					"maximum": 1024
				}
			},
			{
				"box": {
					"id": "obj-195",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						714.0,
						144.0,
						22.0
					],
					"text": "prepend /mrtd/topk"
				}
			},
			{
				"box": {
					"id": "obj-196",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						740.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-197",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						776.0,
						290.0,
						20.0
					],
					"text": "seed (0..2.14748e+09)"
				}
			},
			{
				"box": {
					"id": "obj-198",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						796.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-199",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1220.0,
						822.0,
						70.0,
						22.0
					],
					"minimum": 0,
					"maximum": 2147483647
				}
			},
			{
				"box": {
					"id": "obj-200",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						850.0,
						144.0,
						22.0
					],
					"text": "prepend /mrtd/seed"
				}
			},
			{
				"box": {
					"id": "obj-201",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						876.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-202",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						912.0,
						290.0,
						20.0
					],
					"text": "drums"
				}
			},
			{
				"box": {
					"id": "obj-203",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1350.0,
						932.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-204",
					"maxclass": "umenu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"int",
						"",
						""
					],
					"patching_rect": [
						1220.0,
						958.0,
						120.0,
						22.0
					],
					"items": [
						"auto",
						",",
						"off",
						",",
						"on"
					]
				}
			},
			{
				"box": {
					"id": "obj-205",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						986.0,
						151.0,
						22.0
					],
					"text": "prepend /mrtd/drums"
				}
			},
			{
				"box": {
					"id": "obj-206",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						1012.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-207",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						1048.0,
						122.0,
						22.0
					],
					"text": "/mrtd/drums/hit"
				}
			},
			{
				"box": {
					"id": "obj-208",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1220.0,
						1074.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-209",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1220.0,
						66.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-210",
					"maxclass": "newobj",
					"numinlets": 8,
					"numoutlets": 8,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1365.0,
						66.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/guidance/style /mrtd/guidance/notes /mrtd/guidance/drums /mrtd/temperature /mrtd/topk /mrtd/seed /mrtd/drums"
				}
			},
			{
				"box": {
					"id": "obj-211",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						40.0,
						280.0,
						20.0
					],
					"text": "transport and output"
				}
			},
			{
				"box": {
					"id": "obj-212",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						96.0,
						93.0,
						22.0
					],
					"text": "/mrtd/reset"
				}
			},
			{
				"box": {
					"id": "obj-213",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						122.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-214",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						156.0,
						151.0,
						22.0
					],
					"text": "/mrtd/notes/all_off"
				}
			},
			{
				"box": {
					"id": "obj-215",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						182.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-216",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						216.0,
						290.0,
						20.0
					],
					"text": "volume (-60..12 dB)"
				}
			},
			{
				"box": {
					"id": "obj-217",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1650.0,
						236.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-218",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1520.0,
						262.0,
						70.0,
						22.0
					],
					"format": 6,
					"minimum": -60.0,
					"maximum": 12.0
				}
			},
			{
				"box": {
					"id": "obj-219",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						290.0,
						158.0,
						22.0
					],
					"text": "prepend /mrtd/volume"
				}
			},
			{
				"box": {
					"id": "obj-220",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						316.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-221",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						352.0,
						290.0,
						20.0
					],
					"text": "mute (0/1)"
				}
			},
			{
				"box": {
					"id": "obj-222",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1650.0,
						372.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-223",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1520.0,
						398.0,
						24.0,
						24.0
					]
				}
			},
			{
				"box": {
					"id": "obj-224",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						428.0,
						144.0,
						22.0
					],
					"text": "prepend /mrtd/mute"
				}
			},
			{
				"box": {
					"id": "obj-225",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						454.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-226",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						490.0,
						290.0,
						20.0
					],
					"text": "pause (0/1)"
				}
			},
			{
				"box": {
					"id": "obj-227",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1650.0,
						510.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-228",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1520.0,
						536.0,
						24.0,
						24.0
					]
				}
			},
			{
				"box": {
					"id": "obj-229",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						566.0,
						151.0,
						22.0
					],
					"text": "prepend /mrtd/pause"
				}
			},
			{
				"box": {
					"id": "obj-230",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						592.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-231",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						628.0,
						290.0,
						20.0
					],
					"text": "responsive (0/1)"
				}
			},
			{
				"box": {
					"id": "obj-232",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1650.0,
						648.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-233",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1520.0,
						674.0,
						24.0,
						24.0
					]
				}
			},
			{
				"box": {
					"id": "obj-234",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						704.0,
						187.0,
						22.0
					],
					"text": "prepend /mrtd/responsive"
				}
			},
			{
				"box": {
					"id": "obj-235",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						730.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-236",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						766.0,
						290.0,
						20.0
					],
					"text": "fx/bypass (0/1)"
				}
			},
			{
				"box": {
					"id": "obj-237",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1650.0,
						786.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-238",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1520.0,
						812.0,
						24.0,
						24.0
					]
				}
			},
			{
				"box": {
					"id": "obj-239",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						842.0,
						180.0,
						22.0
					],
					"text": "prepend /mrtd/fx/bypass"
				}
			},
			{
				"box": {
					"id": "obj-240",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						868.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-241",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1520.0,
						66.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-242",
					"maxclass": "newobj",
					"numinlets": 6,
					"numoutlets": 6,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1665.0,
						66.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/volume /mrtd/mute /mrtd/pause /mrtd/responsive /mrtd/fx/bypass"
				}
			},
			{
				"box": {
					"id": "obj-243",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						914.0,
						79.0,
						22.0
					],
					"text": "p effects",
					"patcher": {
						"fileversion": 1,
						"appversion": {
							"major": 8,
							"minor": 6,
							"revision": 0,
							"architecture": "x64",
							"modernui": 1
						},
						"classnamespace": "box",
						"rect": [
							80.0,
							100.0,
							1300.0,
							1678.0
						],
						"bglocked": 0,
						"openinpresentation": 0,
						"default_fontsize": 12.0,
						"default_fontface": 0,
						"default_fontname": "Arial",
						"gridonopen": 1,
						"gridsize": [
							15.0,
							15.0
						],
						"gridsnaponopen": 1,
						"objectsnaponopen": 1,
						"statusbarvisible": 2,
						"toolbarvisible": 1,
						"boxanimatetime": 200,
						"enablehscroll": 1,
						"enablevscroll": 1,
						"description": "",
						"digest": "",
						"tags": "",
						"style": "",
						"boxes": [
							{
								"box": {
									"id": "obj-1",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										10.0,
										700.0,
										20.0
									],
									"text": "mrtd effects (post-chain); sends through 's mrtd.control.tx', follows 'r mrtd.control.rx'"
								}
							},
							{
								"box": {
									"id": "obj-2",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										40.0,
										280.0,
										20.0
									],
									"text": "filter"
								}
							},
							{
								"box": {
									"id": "obj-3",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										96.0,
										290.0,
										20.0
									],
									"text": "fx/filter/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-4",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										116.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-5",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										20.0,
										142.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-6",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										172.0,
										201.0,
										22.0
									],
									"text": "prepend /mrtd/fx/filter/on"
								}
							},
							{
								"box": {
									"id": "obj-7",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										198.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-8",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										234.0,
										290.0,
										20.0
									],
									"text": "fx/filter/mode"
								}
							},
							{
								"box": {
									"id": "obj-9",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										254.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-10",
									"maxclass": "umenu",
									"numinlets": 1,
									"numoutlets": 3,
									"outlettype": [
										"int",
										"",
										""
									],
									"patching_rect": [
										20.0,
										280.0,
										120.0,
										22.0
									],
									"items": [
										"lowpass12",
										",",
										"lowpass24",
										",",
										"highpass12",
										",",
										"highpass24",
										",",
										"bandpass12",
										",",
										"bandpass24"
									]
								}
							},
							{
								"box": {
									"id": "obj-11",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										308.0,
										216.0,
										22.0
									],
									"text": "prepend /mrtd/fx/filter/mode"
								}
							},
							{
								"box": {
									"id": "obj-12",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										334.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-13",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										370.0,
										290.0,
										20.0
									],
									"text": "fx/filter/cutoff_hz (20..20000 Hz)"
								}
							},
							{
								"box": {
									"id": "obj-14",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										390.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-15",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										416.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 20.0,
									"maximum": 20000.0
								}
							},
							{
								"box": {
									"id": "obj-16",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										444.0,
										252.0,
										22.0
									],
									"text": "prepend /mrtd/fx/filter/cutoff_hz"
								}
							},
							{
								"box": {
									"id": "obj-17",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										470.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-18",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										506.0,
										290.0,
										20.0
									],
									"text": "fx/filter/resonance (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-19",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										526.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-20",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										552.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-21",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										580.0,
										252.0,
										22.0
									],
									"text": "prepend /mrtd/fx/filter/resonance"
								}
							},
							{
								"box": {
									"id": "obj-22",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										606.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-23",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										642.0,
										290.0,
										20.0
									],
									"text": "fx/filter/drive (1..10)"
								}
							},
							{
								"box": {
									"id": "obj-24",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										662.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-25",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										688.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 1.0,
									"maximum": 10.0
								}
							},
							{
								"box": {
									"id": "obj-26",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										716.0,
										223.0,
										22.0
									],
									"text": "prepend /mrtd/fx/filter/drive"
								}
							},
							{
								"box": {
									"id": "obj-27",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										742.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-28",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										66.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-29",
									"maxclass": "newobj",
									"numinlets": 6,
									"numoutlets": 6,
									"outlettype": [
										"",
										"",
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										165.0,
										66.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/filter/on /mrtd/fx/filter/mode /mrtd/fx/filter/cutoff_hz /mrtd/fx/filter/resonance /mrtd/fx/filter/drive"
								}
							},
							{
								"box": {
									"id": "obj-30",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										40.0,
										280.0,
										20.0
									],
									"text": "drive"
								}
							},
							{
								"box": {
									"id": "obj-31",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										96.0,
										290.0,
										20.0
									],
									"text": "fx/drive/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-32",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										116.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-33",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										320.0,
										142.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-34",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										172.0,
										194.0,
										22.0
									],
									"text": "prepend /mrtd/fx/drive/on"
								}
							},
							{
								"box": {
									"id": "obj-35",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										198.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-36",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										234.0,
										290.0,
										20.0
									],
									"text": "fx/drive/drive_db (0..40 dB)"
								}
							},
							{
								"box": {
									"id": "obj-37",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										254.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-38",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										320.0,
										280.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 40.0
								}
							},
							{
								"box": {
									"id": "obj-39",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										308.0,
										237.0,
										22.0
									],
									"text": "prepend /mrtd/fx/drive/drive_db"
								}
							},
							{
								"box": {
									"id": "obj-40",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										334.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-41",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										66.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-42",
									"maxclass": "newobj",
									"numinlets": 3,
									"numoutlets": 3,
									"outlettype": [
										"",
										"",
										""
									],
									"patching_rect": [
										465.0,
										66.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/drive/on /mrtd/fx/drive/drive_db"
								}
							},
							{
								"box": {
									"id": "obj-43",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										40.0,
										280.0,
										20.0
									],
									"text": "chorus"
								}
							},
							{
								"box": {
									"id": "obj-44",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										96.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-45",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										116.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-46",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										620.0,
										142.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-47",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										172.0,
										201.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/on"
								}
							},
							{
								"box": {
									"id": "obj-48",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										198.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-49",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										234.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/rate_hz (0.01..10 Hz)"
								}
							},
							{
								"box": {
									"id": "obj-50",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										254.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-51",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										280.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.01,
									"maximum": 10.0
								}
							},
							{
								"box": {
									"id": "obj-52",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										308.0,
										237.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/rate_hz"
								}
							},
							{
								"box": {
									"id": "obj-53",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										334.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-54",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										370.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/depth (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-55",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										390.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-56",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										416.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-57",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										444.0,
										223.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/depth"
								}
							},
							{
								"box": {
									"id": "obj-58",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										470.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-59",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										506.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/centre_delay_ms (1..30 ms)"
								}
							},
							{
								"box": {
									"id": "obj-60",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										526.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-61",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										552.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 1.0,
									"maximum": 30.0
								}
							},
							{
								"box": {
									"id": "obj-62",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										580.0,
										295.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/centre_delay_ms"
								}
							},
							{
								"box": {
									"id": "obj-63",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										606.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-64",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										642.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/feedback (-0.95..0.95)"
								}
							},
							{
								"box": {
									"id": "obj-65",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										662.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-66",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										688.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": -0.95,
									"maximum": 0.95
								}
							},
							{
								"box": {
									"id": "obj-67",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										716.0,
										244.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/feedback"
								}
							},
							{
								"box": {
									"id": "obj-68",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										742.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-69",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										778.0,
										290.0,
										20.0
									],
									"text": "fx/chorus/mix (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-70",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										798.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-71",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										824.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-72",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										852.0,
										208.0,
										22.0
									],
									"text": "prepend /mrtd/fx/chorus/mix"
								}
							},
							{
								"box": {
									"id": "obj-73",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										878.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-74",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										66.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-75",
									"maxclass": "newobj",
									"numinlets": 7,
									"numoutlets": 7,
									"outlettype": [
										"",
										"",
										"",
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										765.0,
										66.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/chorus/on /mrtd/fx/chorus/rate_hz /mrtd/fx/chorus/depth /mrtd/fx/chorus/centre_delay_ms /mrtd/fx/chorus/feedback /mrtd/fx/chorus/mix"
								}
							},
							{
								"box": {
									"id": "obj-76",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										40.0,
										280.0,
										20.0
									],
									"text": "delay"
								}
							},
							{
								"box": {
									"id": "obj-77",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										96.0,
										290.0,
										20.0
									],
									"text": "fx/delay/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-78",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										116.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-79",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										920.0,
										142.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-80",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										172.0,
										194.0,
										22.0
									],
									"text": "prepend /mrtd/fx/delay/on"
								}
							},
							{
								"box": {
									"id": "obj-81",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										198.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-82",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										234.0,
										290.0,
										20.0
									],
									"text": "fx/delay/time_s (0.01..2 s)"
								}
							},
							{
								"box": {
									"id": "obj-83",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										254.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-84",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										920.0,
										280.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.01,
									"maximum": 2.0
								}
							},
							{
								"box": {
									"id": "obj-85",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										308.0,
										223.0,
										22.0
									],
									"text": "prepend /mrtd/fx/delay/time_s"
								}
							},
							{
								"box": {
									"id": "obj-86",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										334.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-87",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										370.0,
										290.0,
										20.0
									],
									"text": "fx/delay/feedback (0..0.95)"
								}
							},
							{
								"box": {
									"id": "obj-88",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										390.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-89",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										920.0,
										416.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 0.95
								}
							},
							{
								"box": {
									"id": "obj-90",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										444.0,
										237.0,
										22.0
									],
									"text": "prepend /mrtd/fx/delay/feedback"
								}
							},
							{
								"box": {
									"id": "obj-91",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										470.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-92",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										506.0,
										290.0,
										20.0
									],
									"text": "fx/delay/mix (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-93",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										526.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-94",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										920.0,
										552.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-95",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										580.0,
										201.0,
										22.0
									],
									"text": "prepend /mrtd/fx/delay/mix"
								}
							},
							{
								"box": {
									"id": "obj-96",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										606.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-97",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										66.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-98",
									"maxclass": "newobj",
									"numinlets": 5,
									"numoutlets": 5,
									"outlettype": [
										"",
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										1065.0,
										66.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/delay/on /mrtd/fx/delay/time_s /mrtd/fx/delay/feedback /mrtd/fx/delay/mix"
								}
							},
							{
								"box": {
									"id": "obj-99",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										934.0,
										280.0,
										20.0
									],
									"text": "reverb"
								}
							},
							{
								"box": {
									"id": "obj-100",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										990.0,
										290.0,
										20.0
									],
									"text": "fx/reverb/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-101",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										1010.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-102",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										20.0,
										1036.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-103",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										1066.0,
										201.0,
										22.0
									],
									"text": "prepend /mrtd/fx/reverb/on"
								}
							},
							{
								"box": {
									"id": "obj-104",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1092.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-105",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1128.0,
										290.0,
										20.0
									],
									"text": "fx/reverb/room_size (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-106",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										1148.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-107",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										1174.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-108",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										1202.0,
										252.0,
										22.0
									],
									"text": "prepend /mrtd/fx/reverb/room_size"
								}
							},
							{
								"box": {
									"id": "obj-109",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1228.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-110",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1264.0,
										290.0,
										20.0
									],
									"text": "fx/reverb/damping (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-111",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										1284.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-112",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										1310.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-113",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										1338.0,
										237.0,
										22.0
									],
									"text": "prepend /mrtd/fx/reverb/damping"
								}
							},
							{
								"box": {
									"id": "obj-114",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1364.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-115",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1400.0,
										290.0,
										20.0
									],
									"text": "fx/reverb/width (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-116",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										1420.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-117",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										1446.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-118",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										1474.0,
										223.0,
										22.0
									],
									"text": "prepend /mrtd/fx/reverb/width"
								}
							},
							{
								"box": {
									"id": "obj-119",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1500.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-120",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1536.0,
										290.0,
										20.0
									],
									"text": "fx/reverb/mix (0..1)"
								}
							},
							{
								"box": {
									"id": "obj-121",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										150.0,
										1556.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-122",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										20.0,
										1582.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.0,
									"maximum": 1.0
								}
							},
							{
								"box": {
									"id": "obj-123",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										1610.0,
										208.0,
										22.0
									],
									"text": "prepend /mrtd/fx/reverb/mix"
								}
							},
							{
								"box": {
									"id": "obj-124",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										20.0,
										1636.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-125",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										20.0,
										960.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-126",
									"maxclass": "newobj",
									"numinlets": 6,
									"numoutlets": 6,
									"outlettype": [
										"",
										"",
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										165.0,
										960.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/reverb/on /mrtd/fx/reverb/room_size /mrtd/fx/reverb/damping /mrtd/fx/reverb/width /mrtd/fx/reverb/mix"
								}
							},
							{
								"box": {
									"id": "obj-127",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										934.0,
										280.0,
										20.0
									],
									"text": "compressor"
								}
							},
							{
								"box": {
									"id": "obj-128",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										990.0,
										290.0,
										20.0
									],
									"text": "fx/compressor/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-129",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										1010.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-130",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										320.0,
										1036.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-131",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										1066.0,
										230.0,
										22.0
									],
									"text": "prepend /mrtd/fx/compressor/on"
								}
							},
							{
								"box": {
									"id": "obj-132",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1092.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-133",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1128.0,
										290.0,
										20.0
									],
									"text": "fx/compressor/threshold_db (-60..0 dB)"
								}
							},
							{
								"box": {
									"id": "obj-134",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										1148.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-135",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										320.0,
										1174.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": -60.0,
									"maximum": 0.0
								}
							},
							{
								"box": {
									"id": "obj-136",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										1202.0,
										302.0,
										22.0
									],
									"text": "prepend /mrtd/fx/compressor/threshold_db"
								}
							},
							{
								"box": {
									"id": "obj-137",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1228.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-138",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1264.0,
										290.0,
										20.0
									],
									"text": "fx/compressor/ratio (1..20)"
								}
							},
							{
								"box": {
									"id": "obj-139",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										1284.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-140",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										320.0,
										1310.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 1.0,
									"maximum": 20.0
								}
							},
							{
								"box": {
									"id": "obj-141",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										1338.0,
										252.0,
										22.0
									],
									"text": "prepend /mrtd/fx/compressor/ratio"
								}
							},
							{
								"box": {
									"id": "obj-142",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1364.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-143",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1400.0,
										290.0,
										20.0
									],
									"text": "fx/compressor/attack_ms (0.1..100 ms)"
								}
							},
							{
								"box": {
									"id": "obj-144",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										1420.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-145",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										320.0,
										1446.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 0.1,
									"maximum": 100.0
								}
							},
							{
								"box": {
									"id": "obj-146",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										1474.0,
										280.0,
										22.0
									],
									"text": "prepend /mrtd/fx/compressor/attack_ms"
								}
							},
							{
								"box": {
									"id": "obj-147",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1500.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-148",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1536.0,
										290.0,
										20.0
									],
									"text": "fx/compressor/release_ms (10..1000 ms)"
								}
							},
							{
								"box": {
									"id": "obj-149",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										450.0,
										1556.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-150",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										320.0,
										1582.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 10.0,
									"maximum": 1000.0
								}
							},
							{
								"box": {
									"id": "obj-151",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										1610.0,
										288.0,
										22.0
									],
									"text": "prepend /mrtd/fx/compressor/release_ms"
								}
							},
							{
								"box": {
									"id": "obj-152",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										320.0,
										1636.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-153",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										320.0,
										960.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-154",
									"maxclass": "newobj",
									"numinlets": 6,
									"numoutlets": 6,
									"outlettype": [
										"",
										"",
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										465.0,
										960.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/compressor/on /mrtd/fx/compressor/threshold_db /mrtd/fx/compressor/ratio /mrtd/fx/compressor/attack_ms /mrtd/fx/compressor/release_ms"
								}
							},
							{
								"box": {
									"id": "obj-155",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										934.0,
										280.0,
										20.0
									],
									"text": "limiter"
								}
							},
							{
								"box": {
									"id": "obj-156",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										990.0,
										290.0,
										20.0
									],
									"text": "fx/limiter/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-157",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										1010.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-158",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										620.0,
										1036.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-159",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										1066.0,
										208.0,
										22.0
									],
									"text": "prepend /mrtd/fx/limiter/on"
								}
							},
							{
								"box": {
									"id": "obj-160",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										1092.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-161",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										1128.0,
										290.0,
										20.0
									],
									"text": "fx/limiter/threshold_db (-30..0 dB)"
								}
							},
							{
								"box": {
									"id": "obj-162",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										1148.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-163",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										1174.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": -30.0,
									"maximum": 0.0
								}
							},
							{
								"box": {
									"id": "obj-164",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										1202.0,
										280.0,
										22.0
									],
									"text": "prepend /mrtd/fx/limiter/threshold_db"
								}
							},
							{
								"box": {
									"id": "obj-165",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										1228.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-166",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										1264.0,
										290.0,
										20.0
									],
									"text": "fx/limiter/release_ms (10..1000 ms)"
								}
							},
							{
								"box": {
									"id": "obj-167",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										750.0,
										1284.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-168",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										620.0,
										1310.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": 10.0,
									"maximum": 1000.0
								}
							},
							{
								"box": {
									"id": "obj-169",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										1338.0,
										266.0,
										22.0
									],
									"text": "prepend /mrtd/fx/limiter/release_ms"
								}
							},
							{
								"box": {
									"id": "obj-170",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										620.0,
										1364.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-171",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										620.0,
										960.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-172",
									"maxclass": "newobj",
									"numinlets": 4,
									"numoutlets": 4,
									"outlettype": [
										"",
										"",
										"",
										""
									],
									"patching_rect": [
										765.0,
										960.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/limiter/on /mrtd/fx/limiter/threshold_db /mrtd/fx/limiter/release_ms"
								}
							},
							{
								"box": {
									"id": "obj-173",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										934.0,
										280.0,
										20.0
									],
									"text": "gain"
								}
							},
							{
								"box": {
									"id": "obj-174",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										990.0,
										290.0,
										20.0
									],
									"text": "fx/gain/on (0/1)"
								}
							},
							{
								"box": {
									"id": "obj-175",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										1010.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-176",
									"maxclass": "toggle",
									"numinlets": 1,
									"numoutlets": 1,
									"outlettype": [
										"int"
									],
									"patching_rect": [
										920.0,
										1036.0,
										24.0,
										24.0
									]
								}
							},
							{
								"box": {
									"id": "obj-177",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										1066.0,
										187.0,
										22.0
									],
									"text": "prepend /mrtd/fx/gain/on"
								}
							},
							{
								"box": {
									"id": "obj-178",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										1092.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-179",
									"maxclass": "comment",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										1128.0,
										290.0,
										20.0
									],
									"text": "fx/gain/gain_db (-60..24 dB)"
								}
							},
							{
								"box": {
									"id": "obj-180",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										1050.0,
										1148.0,
										93.0,
										22.0
									],
									"text": "prepend set"
								}
							},
							{
								"box": {
									"id": "obj-181",
									"maxclass": "flonum",
									"numinlets": 1,
									"numoutlets": 2,
									"outlettype": [
										"",
										"bang"
									],
									"patching_rect": [
										920.0,
										1174.0,
										70.0,
										22.0
									],
									"format": 6,
									"minimum": -60.0,
									"maximum": 24.0
								}
							},
							{
								"box": {
									"id": "obj-182",
									"maxclass": "newobj",
									"numinlets": 2,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										1202.0,
										223.0,
										22.0
									],
									"text": "prepend /mrtd/fx/gain/gain_db"
								}
							},
							{
								"box": {
									"id": "obj-183",
									"maxclass": "newobj",
									"numinlets": 1,
									"numoutlets": 0,
									"patching_rect": [
										920.0,
										1228.0,
										136.0,
										22.0
									],
									"text": "s mrtd.control.tx"
								}
							},
							{
								"box": {
									"id": "obj-184",
									"maxclass": "newobj",
									"numinlets": 0,
									"numoutlets": 1,
									"outlettype": [
										""
									],
									"patching_rect": [
										920.0,
										960.0,
										136.0,
										22.0
									],
									"text": "r mrtd.control.rx"
								}
							},
							{
								"box": {
									"id": "obj-185",
									"maxclass": "newobj",
									"numinlets": 3,
									"numoutlets": 3,
									"outlettype": [
										"",
										"",
										""
									],
									"patching_rect": [
										1065.0,
										960.0,
										140.0,
										22.0
									],
									"text": "route /mrtd/fx/gain/on /mrtd/fx/gain/gain_db"
								}
							}
						],
						"lines": [
							{
								"patchline": {
									"source": [
										"obj-4",
										0
									],
									"destination": [
										"obj-5",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-5",
										0
									],
									"destination": [
										"obj-6",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-6",
										0
									],
									"destination": [
										"obj-7",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-9",
										0
									],
									"destination": [
										"obj-10",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-10",
										0
									],
									"destination": [
										"obj-11",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-11",
										0
									],
									"destination": [
										"obj-12",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-14",
										0
									],
									"destination": [
										"obj-15",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-15",
										0
									],
									"destination": [
										"obj-16",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-16",
										0
									],
									"destination": [
										"obj-17",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-19",
										0
									],
									"destination": [
										"obj-20",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-20",
										0
									],
									"destination": [
										"obj-21",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-21",
										0
									],
									"destination": [
										"obj-22",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-24",
										0
									],
									"destination": [
										"obj-25",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-25",
										0
									],
									"destination": [
										"obj-26",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-26",
										0
									],
									"destination": [
										"obj-27",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-28",
										0
									],
									"destination": [
										"obj-29",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-29",
										0
									],
									"destination": [
										"obj-4",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-29",
										1
									],
									"destination": [
										"obj-9",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-29",
										2
									],
									"destination": [
										"obj-14",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-29",
										3
									],
									"destination": [
										"obj-19",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-29",
										4
									],
									"destination": [
										"obj-24",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-32",
										0
									],
									"destination": [
										"obj-33",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-33",
										0
									],
									"destination": [
										"obj-34",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-34",
										0
									],
									"destination": [
										"obj-35",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-37",
										0
									],
									"destination": [
										"obj-38",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-38",
										0
									],
									"destination": [
										"obj-39",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-39",
										0
									],
									"destination": [
										"obj-40",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-41",
										0
									],
									"destination": [
										"obj-42",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-42",
										0
									],
									"destination": [
										"obj-32",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-42",
										1
									],
									"destination": [
										"obj-37",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-45",
										0
									],
									"destination": [
										"obj-46",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-46",
										0
									],
									"destination": [
										"obj-47",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-47",
										0
									],
									"destination": [
										"obj-48",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-50",
										0
									],
									"destination": [
										"obj-51",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-51",
										0
									],
									"destination": [
										"obj-52",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-52",
										0
									],
									"destination": [
										"obj-53",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-55",
										0
									],
									"destination": [
										"obj-56",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-56",
										0
									],
									"destination": [
										"obj-57",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-57",
										0
									],
									"destination": [
										"obj-58",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-60",
										0
									],
									"destination": [
										"obj-61",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-61",
										0
									],
									"destination": [
										"obj-62",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-62",
										0
									],
									"destination": [
										"obj-63",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-65",
										0
									],
									"destination": [
										"obj-66",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-66",
										0
									],
									"destination": [
										"obj-67",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-67",
										0
									],
									"destination": [
										"obj-68",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-70",
										0
									],
									"destination": [
										"obj-71",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-71",
										0
									],
									"destination": [
										"obj-72",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-72",
										0
									],
									"destination": [
										"obj-73",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-74",
										0
									],
									"destination": [
										"obj-75",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										0
									],
									"destination": [
										"obj-45",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										1
									],
									"destination": [
										"obj-50",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										2
									],
									"destination": [
										"obj-55",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										3
									],
									"destination": [
										"obj-60",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										4
									],
									"destination": [
										"obj-65",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-75",
										5
									],
									"destination": [
										"obj-70",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-78",
										0
									],
									"destination": [
										"obj-79",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-79",
										0
									],
									"destination": [
										"obj-80",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-80",
										0
									],
									"destination": [
										"obj-81",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-83",
										0
									],
									"destination": [
										"obj-84",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-84",
										0
									],
									"destination": [
										"obj-85",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-85",
										0
									],
									"destination": [
										"obj-86",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-88",
										0
									],
									"destination": [
										"obj-89",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-89",
										0
									],
									"destination": [
										"obj-90",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-90",
										0
									],
									"destination": [
										"obj-91",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-93",
										0
									],
									"destination": [
										"obj-94",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-94",
										0
									],
									"destination": [
										"obj-95",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-95",
										0
									],
									"destination": [
										"obj-96",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-97",
										0
									],
									"destination": [
										"obj-98",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-98",
										0
									],
									"destination": [
										"obj-78",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-98",
										1
									],
									"destination": [
										"obj-83",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-98",
										2
									],
									"destination": [
										"obj-88",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-98",
										3
									],
									"destination": [
										"obj-93",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-101",
										0
									],
									"destination": [
										"obj-102",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-102",
										0
									],
									"destination": [
										"obj-103",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-103",
										0
									],
									"destination": [
										"obj-104",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-106",
										0
									],
									"destination": [
										"obj-107",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-107",
										0
									],
									"destination": [
										"obj-108",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-108",
										0
									],
									"destination": [
										"obj-109",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-111",
										0
									],
									"destination": [
										"obj-112",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-112",
										0
									],
									"destination": [
										"obj-113",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-113",
										0
									],
									"destination": [
										"obj-114",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-116",
										0
									],
									"destination": [
										"obj-117",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-117",
										0
									],
									"destination": [
										"obj-118",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-118",
										0
									],
									"destination": [
										"obj-119",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-121",
										0
									],
									"destination": [
										"obj-122",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-122",
										0
									],
									"destination": [
										"obj-123",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-123",
										0
									],
									"destination": [
										"obj-124",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-125",
										0
									],
									"destination": [
										"obj-126",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-126",
										0
									],
									"destination": [
										"obj-101",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-126",
										1
									],
									"destination": [
										"obj-106",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-126",
										2
									],
									"destination": [
										"obj-111",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-126",
										3
									],
									"destination": [
										"obj-116",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-126",
										4
									],
									"destination": [
										"obj-121",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-129",
										0
									],
									"destination": [
										"obj-130",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-130",
										0
									],
									"destination": [
										"obj-131",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-131",
										0
									],
									"destination": [
										"obj-132",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-134",
										0
									],
									"destination": [
										"obj-135",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-135",
										0
									],
									"destination": [
										"obj-136",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-136",
										0
									],
									"destination": [
										"obj-137",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-139",
										0
									],
									"destination": [
										"obj-140",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-140",
										0
									],
									"destination": [
										"obj-141",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-141",
										0
									],
									"destination": [
										"obj-142",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-144",
										0
									],
									"destination": [
										"obj-145",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-145",
										0
									],
									"destination": [
										"obj-146",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-146",
										0
									],
									"destination": [
										"obj-147",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-149",
										0
									],
									"destination": [
										"obj-150",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-150",
										0
									],
									"destination": [
										"obj-151",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-151",
										0
									],
									"destination": [
										"obj-152",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-153",
										0
									],
									"destination": [
										"obj-154",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-154",
										0
									],
									"destination": [
										"obj-129",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-154",
										1
									],
									"destination": [
										"obj-134",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-154",
										2
									],
									"destination": [
										"obj-139",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-154",
										3
									],
									"destination": [
										"obj-144",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-154",
										4
									],
									"destination": [
										"obj-149",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-157",
										0
									],
									"destination": [
										"obj-158",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-158",
										0
									],
									"destination": [
										"obj-159",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-159",
										0
									],
									"destination": [
										"obj-160",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-162",
										0
									],
									"destination": [
										"obj-163",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-163",
										0
									],
									"destination": [
										"obj-164",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-164",
										0
									],
									"destination": [
										"obj-165",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-167",
										0
									],
									"destination": [
										"obj-168",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-168",
										0
									],
									"destination": [
										"obj-169",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-169",
										0
									],
									"destination": [
										"obj-170",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-171",
										0
									],
									"destination": [
										"obj-172",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-172",
										0
									],
									"destination": [
										"obj-157",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-172",
										1
									],
									"destination": [
										"obj-162",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-172",
										2
									],
									"destination": [
										"obj-167",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-175",
										0
									],
									"destination": [
										"obj-176",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-176",
										0
									],
									"destination": [
										"obj-177",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-177",
										0
									],
									"destination": [
										"obj-178",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-180",
										0
									],
									"destination": [
										"obj-181",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-181",
										0
									],
									"destination": [
										"obj-182",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-182",
										0
									],
									"destination": [
										"obj-183",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-184",
										0
									],
									"destination": [
										"obj-185",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-185",
										0
									],
									"destination": [
										"obj-175",
										0
									]
								}
							},
							{
								"patchline": {
									"source": [
										"obj-185",
										1
									],
									"destination": [
										"obj-180",
										0
									]
								}
							}
						]
					}
				}
			},
			{
				"box": {
					"id": "obj-244",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1520.0,
						940.0,
						280.0,
						20.0
					],
					"text": "click (locked) to open the effects"
				}
			},
			{
				"box": {
					"id": "obj-245",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1820.0,
						40.0,
						280.0,
						20.0
					],
					"text": "status and meters"
				}
			},
			{
				"box": {
					"id": "obj-246",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1820.0,
						96.0,
						290.0,
						20.0
					],
					"text": "frame"
				}
			},
			{
				"box": {
					"id": "obj-247",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						116.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-248",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						142.0,
						100.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-249",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1820.0,
						176.0,
						290.0,
						20.0
					],
					"text": "error"
				}
			},
			{
				"box": {
					"id": "obj-250",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						196.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-251",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						222.0,
						280.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-252",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1820.0,
						256.0,
						290.0,
						20.0
					],
					"text": "status"
				}
			},
			{
				"box": {
					"id": "obj-253",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						276.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-254",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						302.0,
						280.0,
						22.0
					],
					"text": "-"
				}
			},
			{
				"box": {
					"id": "obj-255",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1820.0,
						336.0,
						24.0,
						24.0
					]
				}
			},
			{
				"box": {
					"id": "obj-256",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1850.0,
						336.0,
						250.0,
						20.0
					],
					"text": "poll /mrtd/status every second"
				}
			},
			{
				"box": {
					"id": "obj-257",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						366.0,
						86.0,
						22.0
					],
					"text": "metro 1000"
				}
			},
			{
				"box": {
					"id": "obj-258",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						396.0,
						100.0,
						22.0
					],
					"text": "/mrtd/status"
				}
			},
			{
				"box": {
					"id": "obj-259",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1940.0,
						396.0,
						136.0,
						22.0
					],
					"text": "s mrtd.control.tx"
				}
			},
			{
				"box": {
					"id": "obj-260",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1820.0,
						436.0,
						290.0,
						20.0
					],
					"text": "meters: peak_l peak_r rms_l rms_r fps queue_ms"
				}
			},
			{
				"box": {
					"id": "obj-261",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 6,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1820.0,
						460.0,
						160.0,
						22.0
					],
					"text": "unpack f f f f f f"
				}
			},
			{
				"box": {
					"id": "obj-262",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						490.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-263",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1920.0,
						490.0,
						140.0,
						20.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 1
				}
			},
			{
				"box": {
					"id": "obj-264",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						490.0,
						80.0,
						20.0
					],
					"text": "peak_l"
				}
			},
			{
				"box": {
					"id": "obj-265",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						518.0,
						93.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-266",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1920.0,
						518.0,
						140.0,
						20.0
					],
					"size": 1.0,
					"min": 0.0,
					"floatoutput": 1,
					"orientation": 1
				}
			},
			{
				"box": {
					"id": "obj-267",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						518.0,
						80.0,
						20.0
					],
					"text": "peak_r"
				}
			},
			{
				"box": {
					"id": "obj-268",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1920.0,
						546.0,
						80.0,
						22.0
					],
					"format": 6
				}
			},
			{
				"box": {
					"id": "obj-269",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						546.0,
						80.0,
						20.0
					],
					"text": "rms_l"
				}
			},
			{
				"box": {
					"id": "obj-270",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1920.0,
						574.0,
						80.0,
						22.0
					],
					"format": 6
				}
			},
			{
				"box": {
					"id": "obj-271",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						574.0,
						80.0,
						20.0
					],
					"text": "rms_r"
				}
			},
			{
				"box": {
					"id": "obj-272",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1920.0,
						602.0,
						80.0,
						22.0
					],
					"format": 6
				}
			},
			{
				"box": {
					"id": "obj-273",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						602.0,
						80.0,
						20.0
					],
					"text": "fps"
				}
			},
			{
				"box": {
					"id": "obj-274",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1920.0,
						630.0,
						80.0,
						22.0
					],
					"format": 6
				}
			},
			{
				"box": {
					"id": "obj-275",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						2065.0,
						630.0,
						80.0,
						20.0
					],
					"text": "queue_ms"
				}
			},
			{
				"box": {
					"id": "obj-276",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1820.0,
						66.0,
						136.0,
						22.0
					],
					"text": "r mrtd.control.rx"
				}
			},
			{
				"box": {
					"id": "obj-277",
					"maxclass": "newobj",
					"numinlets": 5,
					"numoutlets": 5,
					"outlettype": [
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						1965.0,
						66.0,
						140.0,
						22.0
					],
					"text": "route /mrtd/frame /mrtd/error /mrtd/status /mrtd/meters"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [
						"obj-2",
						0
					],
					"destination": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-5",
						0
					],
					"destination": [
						"obj-6",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						0
					],
					"destination": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-7",
						0
					],
					"destination": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-8",
						0
					],
					"destination": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-14",
						0
					],
					"destination": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-15",
						0
					],
					"destination": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-15",
						1
					],
					"destination": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-16",
						0
					],
					"destination": [
						"obj-17",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-17",
						0
					],
					"destination": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-13",
						0
					],
					"destination": [
						"obj-14",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-20",
						0
					],
					"destination": [
						"obj-21",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-21",
						0
					],
					"destination": [
						"obj-22",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-22",
						0
					],
					"destination": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-24",
						0
					],
					"destination": [
						"obj-25",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-27",
						0
					],
					"destination": [
						"obj-28",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-29",
						0
					],
					"destination": [
						"obj-30",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-30",
						0
					],
					"destination": [
						"obj-13",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-30",
						1
					],
					"destination": [
						"obj-20",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-30",
						2
					],
					"destination": [
						"obj-27",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-34",
						0
					],
					"destination": [
						"obj-35",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-35",
						0
					],
					"destination": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-35",
						1
					],
					"destination": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-36",
						0
					],
					"destination": [
						"obj-37",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-37",
						0
					],
					"destination": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-33",
						0
					],
					"destination": [
						"obj-34",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-40",
						0
					],
					"destination": [
						"obj-41",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-41",
						0
					],
					"destination": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-42",
						0
					],
					"destination": [
						"obj-43",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-44",
						0
					],
					"destination": [
						"obj-45",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-47",
						0
					],
					"destination": [
						"obj-48",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-49",
						0
					],
					"destination": [
						"obj-50",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-50",
						0
					],
					"destination": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-50",
						1
					],
					"destination": [
						"obj-40",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-50",
						2
					],
					"destination": [
						"obj-47",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-54",
						0
					],
					"destination": [
						"obj-55",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-55",
						0
					],
					"destination": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-55",
						1
					],
					"destination": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-56",
						0
					],
					"destination": [
						"obj-57",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-57",
						0
					],
					"destination": [
						"obj-58",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-53",
						0
					],
					"destination": [
						"obj-54",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-60",
						0
					],
					"destination": [
						"obj-61",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-61",
						0
					],
					"destination": [
						"obj-62",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-62",
						0
					],
					"destination": [
						"obj-63",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-64",
						0
					],
					"destination": [
						"obj-65",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-67",
						0
					],
					"destination": [
						"obj-68",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-69",
						0
					],
					"destination": [
						"obj-70",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-70",
						0
					],
					"destination": [
						"obj-53",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-70",
						1
					],
					"destination": [
						"obj-60",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-70",
						2
					],
					"destination": [
						"obj-67",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-74",
						0
					],
					"destination": [
						"obj-75",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-75",
						0
					],
					"destination": [
						"obj-76",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-75",
						1
					],
					"destination": [
						"obj-76",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-76",
						0
					],
					"destination": [
						"obj-77",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-77",
						0
					],
					"destination": [
						"obj-78",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-73",
						0
					],
					"destination": [
						"obj-74",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-80",
						0
					],
					"destination": [
						"obj-81",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-81",
						0
					],
					"destination": [
						"obj-82",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-82",
						0
					],
					"destination": [
						"obj-83",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-84",
						0
					],
					"destination": [
						"obj-85",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-87",
						0
					],
					"destination": [
						"obj-88",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-89",
						0
					],
					"destination": [
						"obj-90",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-90",
						0
					],
					"destination": [
						"obj-73",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-90",
						1
					],
					"destination": [
						"obj-80",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-90",
						2
					],
					"destination": [
						"obj-87",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-94",
						0
					],
					"destination": [
						"obj-95",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-95",
						0
					],
					"destination": [
						"obj-96",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-95",
						1
					],
					"destination": [
						"obj-96",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-96",
						0
					],
					"destination": [
						"obj-97",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-97",
						0
					],
					"destination": [
						"obj-98",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-93",
						0
					],
					"destination": [
						"obj-94",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-100",
						0
					],
					"destination": [
						"obj-101",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-101",
						0
					],
					"destination": [
						"obj-102",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-102",
						0
					],
					"destination": [
						"obj-103",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-104",
						0
					],
					"destination": [
						"obj-105",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-107",
						0
					],
					"destination": [
						"obj-108",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-109",
						0
					],
					"destination": [
						"obj-110",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-110",
						0
					],
					"destination": [
						"obj-93",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-110",
						1
					],
					"destination": [
						"obj-100",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-110",
						2
					],
					"destination": [
						"obj-107",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-114",
						0
					],
					"destination": [
						"obj-115",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-115",
						0
					],
					"destination": [
						"obj-116",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-115",
						1
					],
					"destination": [
						"obj-116",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-116",
						0
					],
					"destination": [
						"obj-117",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-117",
						0
					],
					"destination": [
						"obj-118",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-113",
						0
					],
					"destination": [
						"obj-114",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-120",
						0
					],
					"destination": [
						"obj-121",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-121",
						0
					],
					"destination": [
						"obj-122",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-122",
						0
					],
					"destination": [
						"obj-123",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-124",
						0
					],
					"destination": [
						"obj-125",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-127",
						0
					],
					"destination": [
						"obj-128",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-129",
						0
					],
					"destination": [
						"obj-130",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-130",
						0
					],
					"destination": [
						"obj-113",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-130",
						1
					],
					"destination": [
						"obj-120",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-130",
						2
					],
					"destination": [
						"obj-127",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-134",
						0
					],
					"destination": [
						"obj-135",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-135",
						0
					],
					"destination": [
						"obj-136",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-135",
						1
					],
					"destination": [
						"obj-136",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-136",
						0
					],
					"destination": [
						"obj-137",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-137",
						0
					],
					"destination": [
						"obj-138",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-133",
						0
					],
					"destination": [
						"obj-134",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-140",
						0
					],
					"destination": [
						"obj-141",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-141",
						0
					],
					"destination": [
						"obj-142",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-142",
						0
					],
					"destination": [
						"obj-143",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-144",
						0
					],
					"destination": [
						"obj-145",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-147",
						0
					],
					"destination": [
						"obj-148",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-149",
						0
					],
					"destination": [
						"obj-150",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-150",
						0
					],
					"destination": [
						"obj-133",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-150",
						1
					],
					"destination": [
						"obj-140",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-150",
						2
					],
					"destination": [
						"obj-147",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-154",
						0
					],
					"destination": [
						"obj-155",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-155",
						0
					],
					"destination": [
						"obj-156",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-155",
						1
					],
					"destination": [
						"obj-156",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-156",
						0
					],
					"destination": [
						"obj-157",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-157",
						0
					],
					"destination": [
						"obj-158",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-153",
						0
					],
					"destination": [
						"obj-154",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-160",
						0
					],
					"destination": [
						"obj-161",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-161",
						0
					],
					"destination": [
						"obj-162",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-162",
						0
					],
					"destination": [
						"obj-163",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-164",
						0
					],
					"destination": [
						"obj-165",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-167",
						0
					],
					"destination": [
						"obj-168",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-169",
						0
					],
					"destination": [
						"obj-170",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-170",
						0
					],
					"destination": [
						"obj-153",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-170",
						1
					],
					"destination": [
						"obj-160",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-170",
						2
					],
					"destination": [
						"obj-167",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-173",
						0
					],
					"destination": [
						"obj-174",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-174",
						0
					],
					"destination": [
						"obj-175",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-175",
						0
					],
					"destination": [
						"obj-176",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-178",
						0
					],
					"destination": [
						"obj-179",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-179",
						0
					],
					"destination": [
						"obj-180",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-180",
						0
					],
					"destination": [
						"obj-181",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-183",
						0
					],
					"destination": [
						"obj-184",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-184",
						0
					],
					"destination": [
						"obj-185",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-185",
						0
					],
					"destination": [
						"obj-186",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-188",
						0
					],
					"destination": [
						"obj-189",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-189",
						0
					],
					"destination": [
						"obj-190",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-190",
						0
					],
					"destination": [
						"obj-191",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-193",
						0
					],
					"destination": [
						"obj-194",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-194",
						0
					],
					"destination": [
						"obj-195",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-195",
						0
					],
					"destination": [
						"obj-196",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-198",
						0
					],
					"destination": [
						"obj-199",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-199",
						0
					],
					"destination": [
						"obj-200",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-200",
						0
					],
					"destination": [
						"obj-201",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-203",
						0
					],
					"destination": [
						"obj-204",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-204",
						0
					],
					"destination": [
						"obj-205",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-205",
						0
					],
					"destination": [
						"obj-206",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-207",
						0
					],
					"destination": [
						"obj-208",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-209",
						0
					],
					"destination": [
						"obj-210",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						0
					],
					"destination": [
						"obj-173",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						1
					],
					"destination": [
						"obj-178",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						2
					],
					"destination": [
						"obj-183",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						3
					],
					"destination": [
						"obj-188",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						4
					],
					"destination": [
						"obj-193",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						5
					],
					"destination": [
						"obj-198",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-210",
						6
					],
					"destination": [
						"obj-203",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-212",
						0
					],
					"destination": [
						"obj-213",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-214",
						0
					],
					"destination": [
						"obj-215",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-217",
						0
					],
					"destination": [
						"obj-218",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-218",
						0
					],
					"destination": [
						"obj-219",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-219",
						0
					],
					"destination": [
						"obj-220",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-222",
						0
					],
					"destination": [
						"obj-223",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-223",
						0
					],
					"destination": [
						"obj-224",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-224",
						0
					],
					"destination": [
						"obj-225",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-227",
						0
					],
					"destination": [
						"obj-228",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-228",
						0
					],
					"destination": [
						"obj-229",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-229",
						0
					],
					"destination": [
						"obj-230",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-232",
						0
					],
					"destination": [
						"obj-233",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-233",
						0
					],
					"destination": [
						"obj-234",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-234",
						0
					],
					"destination": [
						"obj-235",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-237",
						0
					],
					"destination": [
						"obj-238",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-238",
						0
					],
					"destination": [
						"obj-239",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-239",
						0
					],
					"destination": [
						"obj-240",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-241",
						0
					],
					"destination": [
						"obj-242",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-242",
						0
					],
					"destination": [
						"obj-217",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-242",
						1
					],
					"destination": [
						"obj-222",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-242",
						2
					],
					"destination": [
						"obj-227",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-242",
						3
					],
					"destination": [
						"obj-232",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-242",
						4
					],
					"destination": [
						"obj-237",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-247",
						0
					],
					"destination": [
						"obj-248",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-250",
						0
					],
					"destination": [
						"obj-251",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-253",
						0
					],
					"destination": [
						"obj-254",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-255",
						0
					],
					"destination": [
						"obj-257",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-257",
						0
					],
					"destination": [
						"obj-258",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-258",
						0
					],
					"destination": [
						"obj-259",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						0
					],
					"destination": [
						"obj-262",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-262",
						0
					],
					"destination": [
						"obj-263",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						1
					],
					"destination": [
						"obj-265",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-265",
						0
					],
					"destination": [
						"obj-266",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						2
					],
					"destination": [
						"obj-268",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						3
					],
					"destination": [
						"obj-270",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						4
					],
					"destination": [
						"obj-272",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-261",
						5
					],
					"destination": [
						"obj-274",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-276",
						0
					],
					"destination": [
						"obj-277",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-277",
						0
					],
					"destination": [
						"obj-247",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-277",
						1
					],
					"destination": [
						"obj-250",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-277",
						2
					],
					"destination": [
						"obj-253",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-277",
						3
					],
					"destination": [
						"obj-261",
						0
					]
				}
			}
		]
	}
}
